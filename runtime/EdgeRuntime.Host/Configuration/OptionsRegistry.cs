using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Host.Configuration;

/// <summary>
/// Every options section the service binds, so that start-up and <c>check-config</c> can report all
/// configuration problems at once: keys no option knows (typos), values that do not convert to the key's
/// type, and each section's validator findings, each naming the key, the value and what is allowed.
/// The configuration binder stops at the first value it cannot convert; the check therefore sets such
/// values aside and validates the rest, so one typo never hides another problem.
/// </summary>
public sealed class OptionsRegistry
{
    // Sections read by the hosting framework itself rather than by an options class.
    private static readonly HashSet<string> s_frameworkSections = new(StringComparer.OrdinalIgnoreCase) { "Logging" };

    private readonly List<Registration> _registrations = [];

    private sealed record Registration(string Section, Type OptionsType, Func<IServiceProvider, IConfiguration, IEnumerable<string>> Validate);

    /// <summary>Binds <typeparamref name="TOptions"/> to <paramref name="section"/> with <typeparamref name="TValidator"/>.</summary>
    public OptionsRegistry Add<TOptions, TValidator>(IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class, new()
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section));
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        _registrations.Add(new Registration(section, typeof(TOptions), (provider, sanitized) =>
        {
            var options = new TOptions();
            sanitized.GetSection(section).Bind(options);
            var failures = new List<string>();
            foreach (IValidateOptions<TOptions> validator in provider.GetServices<IValidateOptions<TOptions>>())
            {
                try
                {
                    ValidateOptionsResult result = validator.Validate(Options.DefaultName, options);
                    if (result.Failed)
                    {
                        failures.AddRange(result.Failures);
                    }
                }
                catch (InvalidOperationException ex) when (IsConversionFailure(ex))
                {
                    // The validator consulted another section whose bad value is reported on its own.
                }
                catch (OptionsValidationException)
                {
                    // The validator consulted another section whose problems are reported on their own.
                }
            }

            return failures;
        }));
        return this;
    }

    /// <summary>The sections registered, in registration order.</summary>
    public IEnumerable<string> Sections => _registrations.Select(r => r.Section);

    /// <summary>Every problem in the configuration; empty when it is valid.</summary>
    public IReadOnlyList<string> Check(IServiceProvider services, IConfiguration configuration)
    {
        var problems = new List<string>();
        var unusable = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (Registration registration in _registrations)
        {
            Walk(configuration.GetSection(registration.Section), registration.OptionsType, problems, unusable);
        }

        IConfiguration sanitized = new ConfigurationBuilder()
            .AddInMemoryCollection(configuration.AsEnumerable().Where(pair => pair.Value is not null && !unusable.Contains(pair.Key)))
            .Build();
        foreach (Registration registration in _registrations)
        {
            problems.AddRange(registration.Validate(services, sanitized));
        }

        HashSet<string> known = new(_registrations.Select(r => r.Section), StringComparer.OrdinalIgnoreCase);
        foreach (IConfigurationSection top in configuration.GetChildren())
        {
            if (!known.Contains(top.Key) && !s_frameworkSections.Contains(top.Key))
            {
                problems.Add($"{top.Key}: unknown section (known: {string.Join(", ", known.Order(StringComparer.Ordinal))})");
            }
        }

        return problems.Distinct(StringComparer.Ordinal).ToArray();
    }

    private static bool IsConversionFailure(InvalidOperationException ex) =>
        ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal);

    /// <summary>Reports unknown keys and values that do not convert, recursing into nested option objects.</summary>
    private static void Walk(IConfigurationSection section, Type optionsType, List<string> problems, HashSet<string> unusable)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            PropertyInfo? property = optionsType.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                string known = string.Join(", ", optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name));
                problems.Add($"{child.Path}: unknown key (known: {known})");
                continue;
            }

            Type type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsScalar(type))
            {
                if (child.Value is { } value && !Converts(value, type))
                {
                    unusable.Add(child.Path);
                    problems.Add($"{child.Path} = \"{value}\": {Expected(type)}");
                }
            }
            else if (!typeof(IEnumerable).IsAssignableFrom(type))
            {
                Walk(child, type, problems, unusable);
            }
        }
    }

    private static bool Converts(string value, Type type)
    {
        if (type == typeof(string))
        {
            return true;
        }

        if (type.IsEnum)
        {
            // The binder accepts names (any case) and numbers; the section's validator judges numbers.
            return Enum.TryParse(type, value, ignoreCase: true, out _);
        }

        try
        {
            _ = TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException or OverflowException)
        {
            return false;
        }
    }

    private static string Expected(Type type) => type switch
    {
        _ when type == typeof(int) || type == typeof(long) => "must be a whole number",
        _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "must be a number",
        _ when type == typeof(bool) => "must be true or false",
        _ when type == typeof(TimeSpan) => "must be a time span (hh:mm:ss)",
        { IsEnum: true } => "must be one of " + string.Join(", ", Enum.GetNames(type)),
        _ => "must be a " + type.Name.ToLower(CultureInfo.InvariantCulture),
    };

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan);
}
