namespace EdgeRuntime.ModelPackages.Manifest;

/// <summary>One thing wrong with a manifest: where, what was found there, and what is allowed.</summary>
/// <param name="Path">JSON path of the offending value, e.g. <c>classes[1].threshold</c>; <c>$</c> is the whole document.</param>
/// <param name="Found">The JSON text found there (shortened), or null when the value is missing.</param>
/// <param name="Requirement">What is wrong or what is allowed, e.g. <c>must be in (0, 1)</c>.</param>
public sealed record ManifestProblem(string Path, string? Found, string Requirement)
{
    /// <summary><c>classes[1].threshold = 1.7: must be in (0, 1)</c>, or <c>input.width: is required</c>.</summary>
    public override string ToString() => Found is null ? $"{Path}: {Requirement}" : $"{Path} = {Found}: {Requirement}";
}
