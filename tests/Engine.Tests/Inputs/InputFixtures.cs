using GenMetrics.Cli;

namespace GenMetrics.Tests.Inputs;

/// <summary>Paths into Fixtures/inputs (made by Fixtures/inputs/make_fixtures.py) and a CLI runner.</summary>
static class InputFixtures
{
    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([TestContext.CurrentContext.TestDirectory, "Fixtures", "inputs", .. parts]);

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public static double ReadDouble(string path, int index = 0) =>
        double.Parse(File.ReadAllText(path).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[index], System.Globalization.CultureInfo.InvariantCulture);
}
