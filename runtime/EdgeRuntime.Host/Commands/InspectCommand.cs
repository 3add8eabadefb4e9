using System.CommandLine;
using EdgeRuntime.Host.Offline;

namespace EdgeRuntime.Host.Commands;

/// <summary>
/// <c>edge-runtime inspect [--model DIR|MANIFEST] [--save-masks DIR] [--overlay DIR] IMAGE|DIR...</c>:
/// images through the service's own preprocessing, model and postprocessing, one JSON line each.
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        Option<string?> config = CommonOptions.Config();
        Option<string?> model = new("--model") { Description = "model package folder or its manifest.json (default: the configured Model:Package)" };
        Option<string?> masks = new("--save-masks") { Description = "write a PNG per image whose pixel value is the class index (0 = good)" };
        Option<string?> overlays = new("--overlay") { Description = "write a PNG per image with the defects drawn over it" };
        Argument<string[]> inputs = new("images") { Description = "image files or folders of PNG/JPEG/BMP images", Arity = ArgumentArity.OneOrMore };
        Command command = new("inspect", "Inspect images offline through the same code path as the service; prints one JSON line per image.")
        {
            config, model, masks, overlays, inputs,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            new OfflineInspectionRequest(parse.GetValue(config), parse.GetValue(model), parse.GetValue(masks), parse.GetValue(overlays), parse.GetValue(inputs) ?? []),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(OfflineInspectionRequest request, CancellationToken cancellationToken)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (request.Model is { } model)
        {
            overrides["Model:Package"] = File.Exists(model) ? Path.GetDirectoryName(Path.GetFullPath(model)) : model;
        }

        (Microsoft.Extensions.Hosting.IHost? host, _, int exitCode) = await ValidatedHost.BuildAsync(request.ConfigPath, overrides, TextWriter.Null).ConfigureAwait(false);
        if (host is null)
        {
            return exitCode;
        }

        using (host)
        {
            return await OfflineInspector.RunAsync(host.Services, request, Console.Out, Console.Error, cancellationToken).ConfigureAwait(false);
        }
    }
}
