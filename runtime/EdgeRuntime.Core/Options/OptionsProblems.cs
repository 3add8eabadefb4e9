using System.Globalization;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Core.Options;

/// <summary>
/// Collects every problem of an options section so start-up reports them all at once, each naming the
/// configuration key, the value found and what is allowed: <c>Pipeline:DeadlineMs = -5: must be ...</c>.
/// </summary>
public sealed class OptionsProblems(string section)
{
    private readonly List<string> _problems = [];

    /// <summary>The configuration section the problems belong to (e.g. <c>Pipeline</c>).</summary>
    public string Section { get; } = section;

    /// <summary>Problems found so far.</summary>
    public IReadOnlyList<string> Items => _problems;

    /// <summary>Records a problem with <paramref name="key"/> (relative to the section) unless <paramref name="ok"/>.</summary>
    public void Check(bool ok, string key, object? value, string allowed)
    {
        if (!ok)
        {
            Add(key, value, allowed);
        }
    }

    /// <summary>Records a problem with <paramref name="key"/> (relative to the section).</summary>
    public void Add(string key, object? value, string allowed)
    {
        string shown = value switch
        {
            null => "(missing)",
            string s => "\"" + s + "\"",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? string.Empty,
        };
        _problems.Add($"{Section}:{key} = {shown}: {allowed}");
    }

    /// <summary>Checks an integer range.</summary>
    public void InRange(int value, string key, int min, int max, string unit = "")
    {
        Check(value >= min && value <= max, key, value, $"must be between {min} and {max}{unit}");
    }

    /// <summary>Checks a floating-point range.</summary>
    public void InRange(double value, string key, double min, double max, string unit = "")
    {
        Check(!double.IsNaN(value) && value >= min && value <= max, key, value,
            string.Create(CultureInfo.InvariantCulture, $"must be between {min} and {max}{unit}"));
    }

    /// <summary>Checks that a string is present.</summary>
    public void NotEmpty(string? value, string key, string what)
    {
        Check(!string.IsNullOrWhiteSpace(value), key, value, $"must be {what}");
    }

    /// <summary>Checks that an enum value is one of the defined names.</summary>
    public void Defined<TEnum>(TEnum value, string key)
        where TEnum : struct, Enum
    {
        Check(Enum.IsDefined(value), key, value, "must be one of " + string.Join(", ", Enum.GetNames<TEnum>()));
    }

    /// <summary>The validation result for the options framework.</summary>
    public ValidateOptionsResult ToResult() =>
        _problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_problems);
}
