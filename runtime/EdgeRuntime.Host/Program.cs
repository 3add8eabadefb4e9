using System.CommandLine;
using EdgeRuntime.Host.Commands;

// edge-runtime: the inspection service and its offline companions. `run` is what systemd starts.
RootCommand root = new("EdgeRuntime: edge inspection service (trigger, capture, segment, verdict, publish).");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(CheckConfigCommand.Create());
root.Subcommands.Add(InspectCommand.Create());

// The generic host owns SIGINT/SIGTERM (clean drain, systemd stop); the parser must not race it.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
