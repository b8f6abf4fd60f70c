using System.Reflection;

namespace GenMetrics.Cli;

/// <summary>
/// `genmetrics COMMAND ...`. Exit codes: 0 success, 1 a check failed (e.g. verify found a difference
/// beyond tolerance), 2 bad usage or bad input (one line on stderr naming the file and the problem).
/// </summary>
public static class Program
{
    public const int ExitOk = 0;
    public const int ExitCheckFailed = 1;
    public const int ExitBadInput = 2;

    /// <summary>Every command in this assembly, found by reflection so that a new command is one new file.</summary>
    public static IReadOnlyList<ICommand> Commands { get; } = typeof(Program).Assembly.GetTypes()
        .Where(t => typeof(ICommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
        .Select(t => (ICommand)Activator.CreateInstance(t)!)
        .OrderBy(c => c.Order).ThenBy(c => c.Name, StringComparer.Ordinal)
        .ToArray();

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintUsage(stdout);
            return args.Length == 0 ? ExitBadInput : ExitOk;
        }
        if (args[0] is "--version" or "version")
        {
            stdout.WriteLine($"genmetrics {typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0"}");
            return ExitOk;
        }
        var command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            stderr.WriteLine($"genmetrics: unknown command '{args[0]}' (run 'genmetrics --help' for the list)");
            return ExitBadInput;
        }
        var context = new CommandContext(stdout, stderr);
        try
        {
            var parsed = ArgumentList.Parse(args.Skip(1), command.Options);
            if (parsed.Flag("help"))
            {
                PrintCommandHelp(command, stdout);
                return ExitOk;
            }
            return command.Run(parsed, context);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"genmetrics {command.Name}: {e.Message}");
            stderr.WriteLine($"usage: genmetrics {command.Name} {command.Usage}");
            return ExitBadInput;
        }
        catch (InputException e)
        {
            context.Progress.Clear();
            stderr.WriteLine($"genmetrics {command.Name}: {e.Message}");
            return ExitBadInput;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            context.Progress.Clear();
            stderr.WriteLine($"genmetrics {command.Name}: {e.Message}");
            return ExitBadInput;
        }
        catch (GenMetrics.Cuda.Interop.CudaException e)
        {
            // A CUDA call failed mid-run (the device is out of memory even at the smallest tile, or a driver
            // error): one line naming the call and the error, as for any other input the run cannot take.
            context.Progress.Clear();
            string hint = e.IsOutOfMemory ? " (the feature sets do not fit in the GPU's memory: use --backend cpu or fewer samples)" : "";
            stderr.WriteLine($"genmetrics {command.Name}: CUDA error: {e.Message}{hint}");
            return ExitBadInput;
        }
        catch (OutOfMemoryException)
        {
            context.Progress.Clear();
            stderr.WriteLine($"genmetrics {command.Name}: out of memory (the inputs do not fit: try smaller inputs or the CUDA backend)");
            return ExitBadInput;
        }
    }

    private static void PrintUsage(TextWriter w)
    {
        w.WriteLine("genmetrics: metrics for generative image models (FID, KID, IS, precision/recall, realism, density/coverage)");
        w.WriteLine();
        w.WriteLine("usage: genmetrics COMMAND [ARGS] [--help]");
        w.WriteLine();
        int width = Commands.Max(c => c.Name.Length) + 2;
        foreach (var c in Commands) w.WriteLine($"  {c.Name.PadRight(width)}{c.Summary}");
        w.WriteLine();
        w.WriteLine("Exit codes: 0 success, 1 a check failed, 2 bad usage or bad input.");
    }

    internal static void PrintCommandHelp(ICommand c, TextWriter w)
    {
        w.WriteLine($"usage: genmetrics {c.Name} {c.Usage}");
        w.WriteLine();
        w.WriteLine(c.Summary);
        if (c.Options.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("options:");
            int width = c.Options.Max(o => o.Display.Length) + 2;
            foreach (var o in c.Options) w.WriteLine($"  {o.Display.PadRight(width)}{o.Help}");
        }
    }
}
