using System.CommandLine;
using EdgeModels.Cli;

RootCommand root = new("edge-models: inspect, validate, convert, quantize, package, sign, evaluate and benchmark segmentation models for EdgeRuntime.");
foreach (Command command in CommandCatalog.Create())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
