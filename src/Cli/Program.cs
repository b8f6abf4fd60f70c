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

    public static int Main(string[] args)
    {
        var stdout = new OutputWriter(Console.Out);
        try
        {
            int code = Run(args, stdout, Console.Error);
            stdout.Flush();
            return code;
        }
        catch (StandardOutputException e)
        {
            // Run reports it; this is the final flush failing.
            return ReportOutputFailure(e, Console.Error);
        }
    }

    /// <summary>Exit 2 and one line on stderr for standard output that cannot be written (a full disk, /dev/full).</summary>
    private static int ReportOutputFailure(StandardOutputException e, TextWriter stderr)
    {
        try { stderr.WriteLine($"genmetrics: cannot write the results to standard output: {e.InnerException!.Message}"); }
        catch (IOException) { }
        return ExitBadInput;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var output = stdout as OutputWriter ?? new OutputWriter(stdout);
            int code = RunCommand(args, output, stderr);
            output.Flush(); // a failure at the final flush is reported like any other
            return code;
        }
        catch (StandardOutputException e)
        {
            return ReportOutputFailure(e, stderr);
        }
    }

    private static int RunCommand(string[] args, TextWriter stdout, TextWriter stderr)
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
        if (parseResult.Action is not UsageHelpAction and not PrintVersionAction && Repeated(parseResult) is { } repeated
            && Parser.Value.ByCommand.TryGetValue(parseResult.CommandResult.Command, out var repeatedIn))
        {
            stderr.WriteLine($"genmetrics {repeatedIn.Name}: {repeated.Name} is given more than once");
            stderr.WriteLine(UsageLine(repeatedIn));
            return ExitBadInput;
        }
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
            if (IsOptionValueMistake(e.Message, parsed)) stderr.WriteLine(UsageLine(command));
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
    /// An input error that is a mistake in an option's value (`--metrics foo`, `--convention x`, `--normalize
    /// bad`), which the engine reports as "--NAME: unknown ..." or "--NAME 'VALUE': ...": a usage mistake like
    /// any other, so it gets the usage line. A value that is well formed but cannot be used here (`--backend
    /// cuda` without a driver) names no unknown or malformed value and stays an input error.
    /// </summary>
    internal static bool IsOptionValueMistake(string message, Command command)
    {
        if (!message.StartsWith("--", StringComparison.Ordinal)) return false;
        int end = message.IndexOfAny([':', ' ']);
        if (end < 0) return false;
        string name = message[..end];
        if (!command.Options.Any(o => o.Name == name)) return false;
        string rest = message[end..];
        return rest.StartsWith(" '", StringComparison.Ordinal)
            || rest.Contains("unknown ", StringComparison.Ordinal) || rest.Contains("expected ", StringComparison.Ordinal)
            || rest.Contains("expects ", StringComparison.Ordinal) || rest.Contains("no metric named", StringComparison.Ordinal)
            || rest.Contains(" is neither ", StringComparison.Ordinal);
    }

    /// <summary>
    /// The first of the command's options written more than once (`--k 3 --k 5`, `--strict --strict`), except
    /// those declared with <see cref="Opt.Repeatable"/>: System.CommandLine refuses a second value only for
    /// single-valued options and would keep the last one of a list or flag, silently.
    /// </summary>
    internal static Option? Repeated(ParseResult parseResult)
    {
        var command = parseResult.CommandResult.Command;
        foreach (var option in command.Options)
        {
            if (Opt.IsRepeatable(option)) continue;
            int count = parseResult.Tokens.Count(t => t.Type == TokenType.Option && (t.Value == option.Name || option.Aliases.Contains(t.Value)));
            if (count > 1) return option;
        }
        return null;
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

    /// <summary>
    /// Standard output with its write failures told apart from those of the files a command writes: an
    /// <see cref="IOException"/> from writing it (a full disk) becomes a <see cref="StandardOutputException"/>,
    /// which <see cref="Run"/> reports as one line, exit 2. A closed pipe (`| head`) is not an error: .NET's
    /// console stream drops what the reader no longer wants.
    /// </summary>
    internal sealed class OutputWriter(TextWriter inner) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;
        public override IFormatProvider FormatProvider => inner.FormatProvider;
        [System.Diagnostics.CodeAnalysis.AllowNull]
        public override string NewLine { get => inner.NewLine; set => inner.NewLine = value; }

        public override void Write(char value) => Guard(() => inner.Write(value));
        public override void Write(string? value) => Guard(() => inner.Write(value));
        public override void Write(char[] buffer, int index, int count) => Guard(() => inner.Write(buffer, index, count));
        public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));
        public override void WriteLine() => Guard(() => inner.WriteLine());
        public override void Flush() => Guard(inner.Flush);

        private static void Guard(Action write)
        {
            try { write(); }
            catch (IOException e) { throw new StandardOutputException(e); }
        }
    }
}

/// <summary>Writing to standard output failed (<see cref="Program.OutputWriter"/>); the inner exception says why.</summary>
public sealed class StandardOutputException(IOException inner) : Exception("cannot write to standard output", inner);
