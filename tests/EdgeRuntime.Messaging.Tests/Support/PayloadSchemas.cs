using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>
/// Validates payloads against runtime/EdgeRuntime.Messaging/Schemas with python-jsonschema, the reference JSON Schema
/// 2020-12 implementation (NuGet's JsonSchema.Net cannot be restored here: its JsonPointer.Net dependency is not in the
/// package source). One validator process per call, however many payloads.
/// </summary>
public static class PayloadSchemas
{
    private static readonly Lazy<string> s_python = new(FindPython);

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Schemas");

    private static string Script => Path.Combine(AppContext.BaseDirectory, "Support", "validate_payloads.py");

    /// <summary>One payload to check: against a schema file, or one of its <c>$defs</c>.</summary>
    public sealed record Item(string Schema, JsonElement Instance, string? Definition = null);

    /// <summary>The errors of each item, in order (empty = valid).</summary>
    public static async Task<string[][]> ValidateAsync(IReadOnlyList<Item> items)
    {
        var start = new ProcessStartInfo(s_python.Value, [Script, Folder])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.Environment["PYTHONUTF8"] = "1";
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("the validator did not start");
        Task<string> errors = process.StandardError.ReadToEndAsync();
        Task writing = Task.Run(async () =>
        {
            foreach (Item item in items)
            {
                await process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new { schema = item.Schema, definition = item.Definition, instance = item.Instance }));
            }

            process.StandardInput.Close();
        });

        var results = new List<string[]>(items.Count);
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            results.Add(JsonSerializer.Deserialize<string[]>(line)!);
        }

        await writing;
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"the validator failed ({process.ExitCode}): {await errors}");
        Assert.Equal(items.Count, results.Count);
        return [.. results];
    }

    /// <summary>Fails naming every payload that does not match, with its errors.</summary>
    public static async Task AssertValidAsync(IReadOnlyList<Item> items)
    {
        Assert.NotEmpty(items);
        string[][] errors = await ValidateAsync(items);
        var failures = new StringBuilder();
        for (int i = 0; i < items.Count; i++)
        {
            if (errors[i].Length > 0)
            {
                string shown = items[i].Instance.GetRawText();
                failures.AppendLine($"{items[i].Schema}{(items[i].Definition is { } d ? "#" + d : string.Empty)}: {string.Join("; ", errors[i])}")
                    .AppendLine("  in " + (shown.Length > 600 ? shown[..600] + "..." : shown));
            }
        }

        Assert.True(failures.Length == 0, failures.ToString());
    }

    /// <summary>python3 with jsonschema: the one on the PATH, else the system's (where build.sh installs python3-jsonschema).</summary>
    private static string FindPython()
    {
        foreach (string candidate in (string[])["python3", "/usr/bin/python3"])
        {
            try
            {
                using Process? probe = Process.Start(new ProcessStartInfo(candidate, ["-c", "import jsonschema"])
                {
                    UseShellExecute = false,
                    RedirectStandardError = true,
                });
                if (probe is null)
                {
                    continue;
                }

                probe.StandardError.ReadToEnd();
                probe.WaitForExit();
                if (probe.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed under that name: try the next.
            }
        }

        throw new InvalidOperationException("the payload schema tests need python3 with the jsonschema package (./build.sh deps test installs python3-jsonschema)");
    }
}
