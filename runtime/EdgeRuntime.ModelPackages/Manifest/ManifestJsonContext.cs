using System.Text.Json.Serialization;
using EdgeRuntime.ModelPackages.Signing;

namespace EdgeRuntime.ModelPackages.Manifest;

/// <summary>
/// Source-generated serialization for the package's JSON files: camelCase names, enums as the schema's strings,
/// nulls omitted. Reading goes through <see cref="ModelManifest.Parse"/>, which validates before it binds.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    UseStringEnumConverter = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ModelManifest))]
[JsonSerializable(typeof(ManifestSignature))]
public sealed partial class ManifestJsonContext : JsonSerializerContext;
