using EdgeRuntime.ModelPackages.Graph;
using EdgeRuntime.ModelPackages.Manifest;
using EdgeRuntime.ModelPackages.Tests.Support;

namespace EdgeRuntime.ModelPackages.Tests;

public sealed class ManifestGraphCheckTests
{
    private static readonly ModelManifest s_manifest = ModelManifest.Parse(TestPackages.ToBytes(TestPackages.ValidManifest())).Manifest!;

    [Fact]
    public void GraphThatMatchesTheManifestHasNoProblems()
    {
        ModelGraphDescription graph = new(
            [new GraphTensor("input", "float32", [null, 3, 32, 32])],
            [new GraphTensor("logits", "float32", [null, 3, 32, 32]), new GraphTensor("features", "float32", [null, 16, 8, 8])]);

        Assert.Empty(ManifestGraphCheck.Check(s_manifest, graph));
        Assert.Empty(ManifestGraphCheck.CheckOutputShape(s_manifest, [1, 3, 32, 32]));
    }

    [Fact]
    public void EveryDisagreementIsReportedTogether()
    {
        ModelGraphDescription graph = new(
            [new GraphTensor("input", "float16", [4, 1, 32, 48]), new GraphTensor("mask", "float32", [null, 1, 32, 32])],
            [new GraphTensor("logits", "float32", [null, 2, 32, 32])]);

        IReadOnlyList<PackageProblem> problems = ManifestGraphCheck.Check(s_manifest, graph);

        Assert.All(problems, p => Assert.Equal(PackageProblemKind.GraphMismatch, p.Kind));
        Assert.Collection(
            problems,
            p => Assert.Contains("further input 'mask'", p.Message, StringComparison.Ordinal),
            p => Assert.Contains("is float16 in the graph", p.Message, StringComparison.Ordinal),
            p => Assert.Contains("fixed batch dimension of 4", p.Message, StringComparison.Ordinal),
            p => Assert.Contains("dimension 1 (channels) is 1 in the graph ([4, 1, 32, 48]); input.channels = 3", p.Message, StringComparison.Ordinal),
            p => Assert.Contains("dimension 3 (width) is 48 in the graph ([4, 1, 32, 48]); input.width = 32", p.Message, StringComparison.Ordinal),
            p => Assert.Contains("dimension 1 (classes (K)) is 2 in the graph ([?, 2, 32, 32]); the manifest lists 3 classes", p.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void MissingTensorNamesListWhatTheGraphHas()
    {
        ModelGraphDescription graph = new([new GraphTensor("images", "float32", [1, 3, 32, 32])], [new GraphTensor("out", "float32", [1, 3, 32, 32])]);

        IReadOnlyList<PackageProblem> problems = ManifestGraphCheck.Check(s_manifest, graph);

        Assert.Contains(problems, p => p.Message == "input.name = \"input\" is not an input of the graph (graph inputs: 'images')");
        Assert.Contains(problems, p => p.Message == "output.name = \"logits\" is not an output of the graph (graph outputs: 'out')");
    }

    [Fact]
    public void NhwcInputIsCheckedInItsOwnAxisOrder()
    {
        ModelManifest nhwc = s_manifest with { Input = s_manifest.Input with { Layout = TensorLayout.Nhwc, Width = 64 } };
        ModelGraphDescription graph = new([new GraphTensor("input", "float32", [1, 32, 64, 3])], [new GraphTensor("logits", "float32", [1, 3, 32, 64])]);

        Assert.Empty(ManifestGraphCheck.Check(nhwc, graph));
        Assert.Equal([1L, 32, 64, 3], ManifestGraphCheck.InputShape(nhwc, 1));
    }

    [Fact]
    public void WrongRankIsReportedOnce()
    {
        ModelGraphDescription graph = new([new GraphTensor("input", "float32", [3, 32, 32])], [new GraphTensor("logits", "float32", [null, 3, 32, 32])]);

        PackageProblem problem = Assert.Single(ManifestGraphCheck.Check(s_manifest, graph));

        Assert.Contains("has rank 3 ([3, 32, 32]); the manifest implies rank 4, input.layout NCHW", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProducedOutputShapeIsComparedWithTheManifest()
    {
        PackageProblem problem = Assert.Single(ManifestGraphCheck.CheckOutputShape(s_manifest, [1, 3, 16, 16]));

        Assert.Contains("of shape [1, 3, 16, 16]; the manifest implies [1, 3, 32, 32]", problem.Message, StringComparison.Ordinal);
    }
}
