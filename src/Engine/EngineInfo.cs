using System.Reflection;

namespace GenMetrics;

/// <summary>Facts about this build of the engine library.</summary>
public static class EngineInfo
{
    /// <summary>
    /// The library's version, e.g. "1.0.0": the &lt;Version&gt; of Directory.Build.props, which the CLI
    /// (`genmetrics --version`) and the C ABI (genmetrics_version) report too.
    /// </summary>
    public static string Version { get; } = ReadVersion();

    private static string ReadVersion()
    {
        string v = typeof(EngineInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = v.IndexOf('+');
        return plus < 0 ? v : v[..plus];
    }
}
