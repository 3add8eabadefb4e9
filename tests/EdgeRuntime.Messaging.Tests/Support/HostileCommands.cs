using System.Text;
using EdgeRuntime.Messaging.Commands;

namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>
/// Command requests that must each be refused: not JSON, not an object, too deep, too large, a bad id, an unknown
/// command, and for every command arguments of the wrong type, range or shape. Seeded, so a failure repeats.
/// </summary>
public static class HostileCommands
{
    private static readonly string[] s_wrongTypes = ["null", "true", "[]", "{}", "[1,2]", "{\"a\":1}", "\"\""];

    public static List<(string Name, byte[] Payload)> Generate(Random random, int count, int maxCommandBytes)
    {
        var cases = new List<(string, byte[])>(count);
        for (int i = 0; i < count; i++)
        {
            cases.Add(One(random, maxCommandBytes));
        }

        return cases;
    }

    private static (string Name, byte[] Payload) One(Random random, int maxCommandBytes)
    {
        string known = CommandProcessor.Known[random.Next(CommandProcessor.Known.Count)];
        return random.Next(12) switch
        {
            0 => (known, NotJson(random)),
            1 => (known, Text(Pick(random, "[1,2]", "\"text\"", "42", "null", "true", "-0.5e3", "[]", "[{\"id\":1}]"))),
            2 => (known, Text(new string('[', 9 + random.Next(40)) + new string(']', 9 + random.Next(40)))),
            3 => (known, Text("{\"a\":" + new string('[', 8 + random.Next(20)) + "1" + new string(']', 8 + random.Next(20)) + "}")),
            4 => (known, BadId(random)),
            5 => (UnknownName(random), Text(Pick(random, "{}", "", "{\"id\":1}"))),
            6 when random.Next(4) == 0 => (known, Oversized(random, maxCommandBytes)),
            7 => (known, InvalidUtf8(random)),
            _ => BadArguments(random),
        };
    }

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    private static string Pick(Random random, params string[] choices) => choices[random.Next(choices.Length)];

    private static string WrongType(Random random) => s_wrongTypes[random.Next(s_wrongTypes.Length)];

    /// <summary>Random bytes after an opening brace, cut so the object never closes.</summary>
    private static byte[] NotJson(Random random)
    {
        byte[] payload = new byte[1 + random.Next(1, 200)];
        random.NextBytes(payload);
        payload[0] = (byte)'{';
        for (int i = 1; i < payload.Length; i++)
        {
            if (payload[i] == (byte)'}')
            {
                payload[i] = (byte)'{';
            }
        }

        return payload;
    }

    private static byte[] BadId(Random random) => Text("{\"id\": " + Pick(random, "{\"x\":1}", "[1]", "true", "false", "null",
        "\"" + new string('i', 129 + random.Next(200)) + "\"") + "}");

    private static string UnknownName(Random random)
    {
        // Valid topic levels (no wildcards, no NUL) that name no command; never ending in /reply, which the device ignores.
        string name = Pick(random, "reboot", "format-disk", "PING", "ping/extra", "config", "config/get/x", "", "model", "replay ",
            "../restart", "cmd", "x/y/z", "ünïcødé", "restart-now", new string('n', 1 + random.Next(300)));
        return CommandProcessor.Known.Contains(name) ? name + "-not" : name;
    }

    private static byte[] Oversized(Random random, int maxCommandBytes)
    {
        int size = maxCommandBytes + 1 + random.Next(20_000);
        return Text("{\"id\":1,\"pad\":\"" + new string('x', size) + "\"}");
    }

    private static byte[] InvalidUtf8(Random random)
    {
        byte[] prefix = Text("{\"id\":\"");
        byte[] sequences = [0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1];
        byte[] invalid = sequences[random.Next(5)..];
        return [.. prefix, .. invalid, .. Text("\"}")];
    }

    private static (string Name, byte[] Payload) BadArguments(Random random)
    {
        string big = (random.Next(2) == 0 ? "" : "-") + random.NextInt64(1_000_000, long.MaxValue / 10).ToString(System.Globalization.CultureInfo.InvariantCulture);
        switch (random.Next(5))
        {
            case 0:
                return ("replay", Text(Pick(random,
                    "{}",
                    "{\"from\": 5}",
                    "{\"to\": 5}",
                    $"{{\"from\": {WrongType(random)}, \"to\": 5}}",
                    $"{{\"from\": 1, \"to\": {WrongType(random)}}}",
                    "{\"from\": 10, \"to\": 9}",
                    "{\"from\": -5, \"to\": 3}",
                    "{\"from\": 0, \"to\": 10000}",
                    "{\"from\": 1.5, \"to\": 3}",
                    "{\"from\": 1e400, \"to\": 1e401}",
                    $"{{\"from\": 0, \"to\": {big}0}}",
                    "{\"from\": \"1\", \"to\": \"2\"}")));
            case 1:
                return ("capture", Text(Pick(random,
                    $"{{\"correlation\": {Pick(random, "null", "true", "[]", "{}", "[\"a\"]", "{\"a\":1}")}}}",
                    "{\"correlation\": 42}",
                    "{\"correlation\": \"" + new string('c', 129 + random.Next(100)) + "\"}")));
            case 2:
                return ("config/get", Text(Pick(random,
                    $"{{\"section\": {WrongType(random)}}}",
                    "{\"section\": \"   \"}",
                    "{\"section\": \"NoSuchSection\"}",
                    "{\"section\": \"Mqtt:NoSuchKey\"}",
                    "{\"section\": \"" + new string('s', 129 + random.Next(50)) + "\"}")));
            case 3:
                return ("config/set", Text(Pick(random,
                    "{}",
                    $"{{\"values\": {Pick(random, "null", "[]", "1", "\"x\"", "true", "[{\"Mqtt:Port\":1}]")}}}",
                    "{\"values\": {}}",
                    $"{{\"values\": {{\"Mqtt:HealthIntervalSeconds\": {Pick(random, "null", "[]", "{}", "[5]", "{\"v\":5}")}}}}}",
                    $"{{\"values\": {{\"{Pick(random, "", "Mqtt", ":Port", "Mqtt:", "Mqtt::Port", "Mqtt:Po rt", "Mqtt/Port", "Mqtt:Port#", "Mqtt:Pört")}\": 5}}}}",
                    "{\"values\": {\"Mqtt:Password\": \"hunter2\"}}",
                    "{\"values\": {\"Mqtt:Tls:ClientKeyPassword\": \"x\"}}",
                    "{\"values\": {\"Mqtt:Port\": 1, \"mqtt:port\": 2}}",
                    "{\"values\": {\"Mqtt:Host\": \"" + new string('h', 4097) + "\"}}",
                    "{\"values\": {" + string.Join(",", Enumerable.Range(0, 65).Select(i => $"\"S:K{i}\": {i}")) + "}}")));
            default:
                return ("restart", Text(Pick(random,
                    $"{{\"delay\": {WrongType(random)}}}",
                    "{\"delay\": -1}",
                    "{\"delay\": 3600.5}",
                    "{\"delay\": 1e400}",
                    $"{{\"delay\": {big}0}}",
                    "{\"delay\": \"5\"}")));
        }
    }
}
