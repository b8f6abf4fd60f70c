using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace GenMetrics.Cli;

/// <summary>
/// `genmetrics COMMAND ...`, parsed by System.CommandLine. Exit codes: 0 success, 1 a check failed (e.g.
/// verify found a difference beyond tolerance), 2 bad usage or bad input (one line on stderr naming the
/// file and the problem; a usage mistake adds the command's usage line).
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

    /// <summary>--quiet, on every command: no notices on stderr, only errors (and what the command writes to stdout).</summary>
    internal static readonly Option<bool> Quiet = new("--quiet", "-q")
    {
        Description = "no notices or progress on stderr (the CPU fallback, skipped files, ...); errors are still printed",
        Arity = ArgumentArity.Zero,
        Recursive = true,
    };

    private static readonly Lazy<(RootCommand Root, Dictionary<Command, ICommand> ByCommand)> Parser = new(Build);

    // No response files: an argument such as "@real.npy" stays a file name, as it always was.
    private static readonly ParserConfiguration ParserSettings = new() { ResponseFileTokenReplacer = null };

    /// <summary>The System.CommandLine tree of every command (for tests and completion).</summary>
    public static RootCommand Root => Parser.Value.Root;

    /// <summary>The version of the engine library, which the CLI shares (both take it from Directory.Build.props).</summary>
    public static string Version => EngineInfo.Version;

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0)
        {
            PrintUsage(stdout);
            return ExitBadInput;
        }
        PhaseTrace.Mark("main");
        var parseResult = Root.Parse(args, ParserSettings);
        PhaseTrace.Mark("parsed");
        if (parseResult.Action is ParseErrorAction)
            return ReportParseError(parseResult, args, stderr);
        return parseResult.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }

    private static (RootCommand, Dictionary<Command, ICommand>) Build()
    {
        var root = new RootCommand("genmetrics: metrics for generative image models (FID, KID, IS, precision/recall, realism, density/coverage)");
        root.Options.Add(Quiet);
        foreach (var option in root.Options)
        {
            if (option is HelpOption help) help.Action = new UsageHelpAction();
            if (option is VersionOption version) version.Action = new PrintVersionAction();
        }
        root.SetAction(r =>
        {
            PrintUsage(r.InvocationConfiguration.Output);
            return ExitBadInput;
        });
        var byCommand = new Dictionary<Command, ICommand>();
        foreach (var c in Commands)
        {
            var command = new Command(c.Name, c.Summary);
            foreach (var symbol in c.Options)
            {
                switch (symbol)
                {
                    case Option o: command.Options.Add(o); break;
                    case Argument a: command.Arguments.Add(a); break;
                    default: throw new InvalidOperationException($"{c.Name}: {symbol.Name} is neither an option nor an argument");
                }
            }
            command.SetAction(r => Execute(c, command, r));
            root.Subcommands.Add(command);
            byCommand[command] = c;
        }
        // `genmetrics help` and `genmetrics version`, as before the move to System.CommandLine.
        var helpWord = new Command("help") { Hidden = true };
        helpWord.SetAction(r =>
        {
            PrintUsage(r.InvocationConfiguration.Output);
            return ExitOk;
        });
        var versionWord = new Command("version") { Hidden = true };
        versionWord.SetAction(r =>
        {
            r.InvocationConfiguration.Output.WriteLine($"genmetrics {Version}");
            return ExitOk;
        });
        root.Subcommands.Add(helpWord);
        root.Subcommands.Add(versionWord);
        return (root, byCommand);
    }

    private static int Execute(ICommand command, Command parsed, ParseResult parseResult)
    {
        var stdout = parseResult.InvocationConfiguration.Output;
        var stderr = parseResult.InvocationConfiguration.Error;
        var context = new CommandContext(stdout, stderr, parseResult.GetValue(Quiet));
        try
        {
            CommonOptions.CheckCudaBeforeRun(parseResult, parsed);
            int code = command.Run(new ArgumentList(parseResult, parsed), context);
            PhaseTrace.Mark("ran");
            context.FlushPendingNotices();
            return code;
        }
        catch (UsageException e)
        {
            context.Progress.Clear();
            stderr.WriteLine($"genmetrics {command.Name}: {e.Message}");
            stderr.WriteLine(UsageLine(command));
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

    /// <summary>
    /// System.CommandLine's parse errors as the CLI has always reported them: one line `genmetrics CMD:
    /// PROBLEM` and the command's usage line, exit 2 (instead of the library's list of errors and full help).
    /// </summary>
    private static int ReportParseError(ParseResult parseResult, string[] args, TextWriter stderr)
    {
        var command = parseResult.CommandResult.Command;
        if (!Parser.Value.ByCommand.TryGetValue(command, out var c))
        {
            string? first = parseResult.UnmatchedTokens.FirstOrDefault();
            stderr.WriteLine(first is not null && !first.StartsWith('-')
                ? $"genmetrics: unknown command '{first}' (run 'genmetrics --help' for the list)"
                : $"genmetrics: {(first is null ? "missing command" : $"unknown option {first}")} (run 'genmetrics --help' for the list)");
            return ExitBadInput;
        }
        stderr.WriteLine($"genmetrics {c.Name}: {OptionBeforeCommand(parseResult, args) ?? Describe(parseResult, command, args)}");
        stderr.WriteLine(UsageLine(c));
        return ExitBadInput;
    }

    /// <summary>
    /// `genmetrics --backend cuda metrics ...`: an option the root does not take, written before the command.
    /// Only the root's own options (-q/--quiet, --version, --help) may come before it; say so rather than
    /// "unknown option" for an option the command knows.
    /// </summary>
    private static string? OptionBeforeCommand(ParseResult parseResult, string[] args)
    {
        int commandAt = Array.IndexOf(args, parseResult.CommandResult.IdentifierToken.Value);
        if (commandAt <= 0) return null;
        string? early = parseResult.UnmatchedTokens.FirstOrDefault(t => t.StartsWith('-') && t.Length > 1 && Array.IndexOf(args, t) is var at && at >= 0 && at < commandAt);
        if (early is null) return null;
        string name = early.Split('=', ':')[0];
        var command = parseResult.CommandResult.Command;
        if (!command.Options.Any(o => o.Name == name || o.Aliases.Contains(name)))
            return $"unknown option {name} (and options go after the command; only -q/--quiet, --version and --help may come before it)";
        return $"{name} must come after the command: options go after it (genmetrics {command.Name} ... {name} ...); only -q/--quiet, --version and --help may come before it";
    }

    private static string Describe(ParseResult parseResult, Command command, string[] args)
    {
        // `--flag=value`: System.CommandLine splits it and reports the value as an unexpected argument.
        foreach (var arg in args)
        {
            int eq = arg.IndexOfAny(['=', ':']);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 2
                && command.Options.FirstOrDefault(o => o.Name == arg[..eq]) is { Arity.MaximumNumberOfValues: 0 } flag)
                return $"{flag.Name} takes no value";
        }
        // An unknown option or an argument too many, in the order written.
        foreach (var token in parseResult.UnmatchedTokens)
        {
            if (token.StartsWith('-') && token.Length > 1 && !double.TryParse(token, System.Globalization.CultureInfo.InvariantCulture, out _))
                return $"unknown option {token.Split('=', ':')[0]}";
            return $"unexpected argument '{token}'";
        }
        foreach (var error in parseResult.Errors)
        {
            var symbolResult = error.SymbolResult;
            OptionResult? optionResult = symbolResult as OptionResult ?? symbolResult?.Parent as OptionResult;
            if (optionResult is not null)
            {
                var option = optionResult.Option;
                if (optionResult.Tokens.Count == 0 && option.Arity.MinimumNumberOfValues > 0)
                    return $"{option.Name} needs a value";
                if (option.Arity.MaximumNumberOfValues == 0 && optionResult.Tokens.Count > 0)
                    return $"{option.Name} takes no value";
                if (optionResult.Tokens.Count > option.Arity.MaximumNumberOfValues)
                    return $"{option.Name} is given more than once";
                return error.Message;
            }
        }
        var missing = command.Arguments.Where(a => a.Arity.MinimumNumberOfValues > 0 && parseResult.GetResult(a) is not { Tokens.Count: > 0 }).Select(a => a.Name).ToList();
        if (missing.Count > 0) return $"missing {string.Join(" and ", missing)}";
        return parseResult.Errors[0].Message;
    }

    internal static void PrintUsage(TextWriter w)
    {
        w.WriteLine("genmetrics: metrics for generative image models (FID, KID, IS, precision/recall, realism, density/coverage)");
        w.WriteLine();
        w.WriteLine("usage: genmetrics COMMAND [ARGS] [--help]");
        w.WriteLine();
        int width = Commands.Max(c => c.Name.Length) + 2;
        foreach (var c in Commands) w.WriteLine($"  {c.Name.PadRight(width)}{c.Summary}");
        w.WriteLine();
        w.WriteLine("Global options: --quiet (-q) no notices on stderr; --version; --help.");
        w.WriteLine("Exit codes: 0 success, 1 a check failed, 2 bad usage or bad input.");
    }

    private static string UsageLine(ICommand c) => $"usage: genmetrics {c.Name} {c.Usage}".TrimEnd();

    internal static void PrintCommandHelp(ICommand c, TextWriter w)
    {
        w.WriteLine(UsageLine(c));
        w.WriteLine();
        w.WriteLine(c.Summary);
        var rows = c.Options.OfType<Option>().Append(Quiet).Select(o => (Display(o), o.Description ?? "")).ToList();
        w.WriteLine();
        w.WriteLine("options:");
        int width = rows.Max(r => r.Item1.Length) + 2;
        foreach (var (display, help) in rows) w.WriteLine($"  {display.PadRight(width)}{help}");
    }

    /// <summary>"-o, --output DIR" or "--strict", as the help shows an option.</summary>
    internal static string Display(Option o)
    {
        string shortForm = o.Aliases.FirstOrDefault(a => a.Length == 2 && a[0] == '-' && a[1] != '-') is { } s ? s + ", " : "";
        return shortForm + (o.Arity.MaximumNumberOfValues == 0 ? o.Name : $"{o.Name} {o.HelpName ?? "VALUE"}");
    }

    /// <summary>--help: the CLI's own usage (the list of commands, or one command's usage and options).</summary>
    private sealed class UsageHelpAction : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var output = parseResult.InvocationConfiguration.Output;
            if (Parser.Value.ByCommand.TryGetValue(parseResult.CommandResult.Command, out var c)) PrintCommandHelp(c, output);
            else PrintUsage(output);
            return ExitOk;
        }
    }

    private sealed class PrintVersionAction : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine($"genmetrics {Version}");
            return ExitOk;
        }
    }
}
