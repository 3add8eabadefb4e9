using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeRuntime.Host.Configuration;

/// <summary>
/// Every options section the service binds, so that start-up and <c>check-config</c> can report all
/// configuration problems at once: values the binder cannot convert, keys no option knows (typos), and
/// each section's validator findings, each naming the key, the value and what is allowed.
/// </summary>
public sealed class OptionsRegistry
{
    private readonly List<Registration> _registrations = [];

    private sealed record Registration(string Section, Type OptionsType, Func<IServiceProvider, object> Resolve);

    /// <summary>Binds <typeparamref name="TOptions"/> to <paramref name="section"/> with <typeparamref name="TValidator"/>.</summary>
    public OptionsRegistry Add<TOptions, TValidator>(IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section));
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        _registrations.Add(new Registration(section, typeof(TOptions), sp => sp.GetRequiredService<IOptions<TOptions>>().Value));
        return this;
    }

    /// <summary>The sections registered, in registration order.</summary>
    public IEnumerable<string> Sections => _registrations.Select(r => r.Section);

    /// <summary>Every problem in the configuration; empty when it is valid.</summary>
    public IReadOnlyList<string> Check(IServiceProvider services, IConfiguration configuration)
    {
        var problems = new List<string>();
        foreach (Registration registration in _registrations)
        {
            IConfigurationSection section = configuration.GetSection(registration.Section);
            UnknownKeys(section, registration.OptionsType, problems);
            try
            {
                _ = registration.Resolve(services);
            }
            catch (OptionsValidationException ex)
            {
                problems.AddRange(ex.Failures);
            }
            catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
            {
                problems.Add(DescribeConversionFailure(ex, configuration));
            }
        }

        HashSet<string> known = new(_registrations.Select(r => r.Section), StringComparer.OrdinalIgnoreCase);
        foreach (IConfigurationSection top in configuration.GetChildren())
        {
            if (!known.Contains(top.Key) && !IgnoredTopLevel.Contains(top.Key))
            {
                problems.Add($"{top.Key}: unknown section (known: {string.Join(", ", known.Order(StringComparer.Ordinal))})");
            }
        }

        // A section other validators depend on (Pipeline) fails to bind once per dependant: say it once.
        return problems.Distinct(StringComparer.Ordinal).ToArray();
    }

    // Sections read by the hosting framework itself rather than by an options class.
    private static readonly HashSet<string> IgnoredTopLevel = new(StringComparer.OrdinalIgnoreCase) { "Logging" };

    private static string DescribeConversionFailure(InvalidOperationException ex, IConfiguration configuration)
    {
        // "Failed to convert configuration value 'abc' at 'Pipeline:DeadlineMs' to type 'System.Int32'."
        string message = ex.Message;
        int at = message.IndexOf(" at '", StringComparison.Ordinal);
        int to = message.IndexOf("' to type '", StringComparison.Ordinal);
        if (at < 0 || to < at)
        {
            return message;
        }

        string key = message[(at + 5)..to];
        string type = message[(to + 11)..].TrimEnd('.', '\'');
        string allowed = type switch
        {
            "System.Int32" or "System.Int64" => "must be a whole number",
            "System.Double" or "System.Single" => "must be a number",
            "System.Boolean" => "must be true or false",
            _ when FindType(type) is { IsEnum: true } enumType => "must be one of " + string.Join(", ", Enum.GetNames(enumType)),
            _ => "must be a " + type,
        };
        return $"{key} = \"{configuration[key]}\": {allowed}";
    }

    private static Type? FindType(string fullName) =>
        AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(fullName)).FirstOrDefault(t => t is not null);

    private static void UnknownKeys(IConfigurationSection section, Type optionsType, List<string> problems)
    {
        foreach (IConfigurationSection child in section.GetChildren())
        {
            PropertyInfo? property = optionsType.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                string known = string.Join(", ", optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite || !IsScalar(p.PropertyType)).Select(p => p.Name));
                problems.Add($"{child.Path}: unknown key (known: {known})");
                continue;
            }

            Type type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (!IsScalar(type) && !typeof(IEnumerable).IsAssignableFrom(type))
            {
                UnknownKeys(child, type, problems);
            }
        }
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan);
}
