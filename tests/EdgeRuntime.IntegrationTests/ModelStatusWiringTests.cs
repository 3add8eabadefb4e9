using EdgeRuntime.Host.Composition;
using EdgeRuntime.Host.Configuration;
using EdgeRuntime.Messaging.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EdgeRuntime.IntegrationTests;

/// <summary>
/// What health and <c>cmd/model/status</c> report about the model, as the host maps the inference adapter's state onto
/// the messaging seam (<see cref="IModelStatusSource"/>): the shadow model's comparison only where one is configured.
/// </summary>
public sealed class ModelStatusWiringTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("edge-model-status-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private ModelStatusReport StatusOfAHostWith(params (string Key, string Value)[] settings)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Model:Package"] = RepositoryPaths.SampleModel,
            ["Source:Replay:Directory"] = RepositoryPaths.Samples,
            ["Pipeline:StateDirectory"] = _state,
            ["Archive:Directory"] = Path.Combine(_state, "archive"),
        };
        foreach ((string key, string value) in settings)
        {
            overrides[key] = value;
        }

        string empty = Path.Combine(_state, "empty.json");
        File.WriteAllText(empty, "{}");
        using IHost host = EdgeHost.Build(EdgeConfiguration.Build(empty, overrides), TextWriter.Null, out _);
        return host.Services.GetRequiredService<IModelStatusSource>().Current;
    }

    [Fact]
    public void AConfiguredShadowModelIsReportedWithItsPackageAndNoComparisonsBeforeItRuns()
    {
        string shadowPackage = Path.Combine(RepositoryPaths.Root, "models", "packages", "defect-unet-pruned-fp16");
        ModelStatusReport status = StatusOfAHostWith(("Model:Shadow:Package", shadowPackage), ("Model:Shadow:Fraction", "0.25"));

        Assert.Equal("not-loaded", status.Phase);
        Assert.Null(status.Golden);
        ShadowAgreementStatus shadow = Assert.IsType<ShadowAgreementStatus>(status.Shadow);
        Assert.Equal(shadowPackage, shadow.Package);
        Assert.Equal("not-loaded", shadow.Phase);
        Assert.Equal(0.25, shadow.Fraction);
        Assert.Equal(0, shadow.Compared);
        Assert.Null(shadow.AgreementRate);
        Assert.Empty(shadow.LastDisagreements);
    }

    [Fact]
    public void WithoutAShadowModelTheReportHasNoShadow()
    {
        ModelStatusReport status = StatusOfAHostWith();
        Assert.Equal("not-loaded", status.Phase);
        Assert.Null(status.Shadow);
    }
}
