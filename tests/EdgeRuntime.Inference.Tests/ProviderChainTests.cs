using EdgeRuntime.Inference.Models;
using EdgeRuntime.Inference.Providers;
using EdgeRuntime.Inference.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Inference.Tests;

/// <summary>
/// The chain against this machine's real ONNX Runtime, whose package has only the CPU provider: TensorRT and CUDA
/// fail when appended, exactly as on a device whose GPU libraries are missing.
/// </summary>
public sealed class ProviderChainTests
{
    private static readonly AcceleratorFacts s_facts = new("1.31.1", "10.3.0", "Orin sm_87 16SM");

    [Fact]
    public void DefaultChainFallsBackToCpuAndRecordsWhyTensorRtAndCudaWereSkipped()
    {
        var logger = new ListLogger<ProviderChain>();
        ProviderPlan plan = Plan(new InferenceOptions { IntraOpThreads = 1 });

        (InferenceSession session, ProviderSelection selection) = new ProviderChain(logger).CreateSession(File.ReadAllBytes(TestModels.Dynamic), plan, "tiny-unet 1.0.0");
        using (session)
        {
            Assert.Equal(ExecutionProviderKind.Cpu, selection.Active);
            Assert.Equal([ExecutionProviderKind.TensorRt, ExecutionProviderKind.Cuda], selection.Skipped.Select(s => s.Provider));
            Assert.Contains("TensorRT execution provider is not enabled in this build", selection.Skipped[0].Reason, StringComparison.Ordinal);
            Assert.Contains("CUDA execution provider is not enabled in this build", selection.Skipped[1].Reason, StringComparison.Ordinal);
            Assert.Empty(selection.Fallbacks);
            Assert.Same(plan.Find(ExecutionProviderKind.Cpu), selection.ActivePlan);
            Assert.StartsWith("CPU (skipped TensorRT: ", selection.ToString(), StringComparison.Ordinal);
        }

        IReadOnlyList<LogEntry> entries = logger.Entries;
        Assert.Equal(2, entries.Count(e => e.EventId == 101 && e.Level == LogLevel.Warning));
        Assert.Contains(entries, e => e.EventId == 101 && e.Message.Contains("TensorRT skipped", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.EventId == 102 && e.Message.Contains("runs on CPU (2 earlier providers skipped)", StringComparison.Ordinal));
    }

    [Fact]
    public void ChainWithoutCpuRefusesTheModelWhenNoListedProviderWorks()
    {
        ProviderPlan plan = Plan(new InferenceOptions { Providers = ["tensorrt", "cuda"] });

        ModelLoadException refused = Assert.Throws<ModelLoadException>(
            () => new ProviderChain(new ListLogger<ProviderChain>()).CreateSession(File.ReadAllBytes(TestModels.Dynamic), plan, "tiny-unet 1.0.0"));

        Assert.Equal(ModelLoadStage.Providers, refused.Stage);
        string problem = Assert.Single(refused.Problems);
        Assert.Contains("no configured execution provider can run the model", problem, StringComparison.Ordinal);
        Assert.Contains("TensorRT: ", problem, StringComparison.Ordinal);
        Assert.Contains("CUDA: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void SessionOptionsGetEveryAppendableProviderAndSkipTheOthers()
    {
        ProviderPlan plan = Plan(new InferenceOptions());
        var unusable = new HashSet<ExecutionProviderKind>();
        var skipped = new List<SkippedProvider>();
        var appended = new List<ExecutionProviderKind>();

        using SessionOptions options = ProviderChain.CreateSessionOptions(plan, unusable, skipped, appended);

        Assert.Equal([ExecutionProviderKind.Cpu], appended);
        Assert.Equal([ExecutionProviderKind.TensorRt, ExecutionProviderKind.Cuda], skipped.Select(s => s.Provider));
        Assert.Equal([ExecutionProviderKind.TensorRt, ExecutionProviderKind.Cuda], unusable.Order());
        Assert.Equal(GraphOptimizationLevel.ORT_ENABLE_ALL, options.GraphOptimizationLevel);
    }

    [Fact]
    public void ProvidersKnownToBeUnusableAreNotTriedAgain()
    {
        ProviderPlan plan = Plan(new InferenceOptions());
        var unusable = new HashSet<ExecutionProviderKind> { ExecutionProviderKind.TensorRt, ExecutionProviderKind.Cuda };
        var skipped = new List<SkippedProvider>();
        var appended = new List<ExecutionProviderKind>();

        using SessionOptions options = ProviderChain.CreateSessionOptions(plan, unusable, skipped, appended);

        Assert.Empty(skipped);
        Assert.Equal([ExecutionProviderKind.Cpu], appended);
    }

    [Fact]
    public void AFileThatIsNotAModelFailsOnTheCpuProviderAsTheModelsFault()
    {
        ProviderPlan plan = Plan(new InferenceOptions { IntraOpThreads = 1 });

        Assert.Throws<OnnxRuntimeException>(
            () => new ProviderChain(new ListLogger<ProviderChain>()).CreateSession("not an onnx model"u8.ToArray(), plan, "broken 1.0.0"));
    }

    private static ProviderPlan Plan(InferenceOptions options)
    {
        using var state = new TempDirectory();
        return ProviderPlanner.Create(options, TestPackage.Manifest(new ManifestFields(), TestPackage.Sha256(File.ReadAllBytes(TestModels.Dynamic))),
            new BatchProfile(4, IsFixed: false), s_facts, state.Path);
    }
}
