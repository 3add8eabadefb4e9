using System.Buffers;
using System.Text.Json;
using EdgeRuntime.Messaging.Health;

namespace EdgeRuntime.Messaging.Tests.Support;

public static class HealthJson
{
    /// <summary>The health payload as the health loop would publish it now.</summary>
    public static JsonElement Of(HealthReporter health)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            health.Write(writer);
        }

        return JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
    }
}
