using System.Diagnostics;
using System.Globalization;

namespace GenMetrics.Cli;

/// <summary>MP4 from numbered PNG frames through ffmpeg, when ffmpeg is on the PATH.</summary>
internal static class Video
{
    public static string? FindFfmpeg() => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Where(d => d.Length > 0).Select(d => Path.Combine(d, "ffmpeg")).FirstOrDefault(File.Exists);

    /// <summary>
    /// Encodes DIR/frame%04d.png into <paramref name="video"/>. Without ffmpeg: a notice when the video was
    /// asked for explicitly, silence otherwise (the frames are the product either way).
    /// </summary>
    public static void Encode(string framesFolder, string video, bool requested, int fps, CommandContext context)
    {
        string? ffmpeg = FindFfmpeg();
        if (ffmpeg is null)
        {
            if (requested) context.Notice($"no video: ffmpeg is not on the PATH (the frames are in {framesFolder})");
            return;
        }
        var start = new ProcessStartInfo(ffmpeg) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-y", "-loglevel", "error", "-framerate", fps.ToString(CultureInfo.InvariantCulture), "-i", Path.Combine(framesFolder, "frame%04d.png"),
                     "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p", video })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InputException($"{video}: ffmpeg failed ({errors.Trim()})");
        context.Out.WriteLine($"wrote {video}");
    }
}
