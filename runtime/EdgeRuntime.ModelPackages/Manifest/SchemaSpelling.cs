using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace EdgeRuntime.ModelPackages.Manifest;

/// <summary>How the schema spells an enum value: the serializer's own spelling, so there is one list of names.</summary>
internal static class SchemaSpelling
{
    public static string Of<T>(T value, JsonTypeInfo<T> typeInfo)
        where T : struct, Enum =>
        JsonSerializer.SerializeToElement(value, typeInfo).GetString() ?? string.Empty;
}
