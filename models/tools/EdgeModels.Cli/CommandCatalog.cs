using System.CommandLine;

namespace EdgeModels.Cli;

/// <summary>The commands of edge-models, one file each under Commands/.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> Create()
    {
        // One line per command; each command lives in Commands/<Name>Command.cs.
        yield return Commands.GenerateCommand.Create();
        yield return Commands.ValidateCommand.Create();
        yield return Commands.PackageCommand.Create();
        yield return Commands.KeygenCommand.Create();
        yield return Commands.SignCommand.Create();
        yield return Commands.VerifyCommand.Create();
        yield return Commands.InspectCommand.Create();
        yield return Commands.Fp16Command.Create();
        yield return Commands.QuantizeCommand.Create();
        yield return Commands.EvalCommand.Create();
        yield return Commands.TuneCommand.Create();
        yield return Commands.BenchCommand.Create();
        yield break;
    }
}
