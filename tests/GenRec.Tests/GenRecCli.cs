using System.Diagnostics;

namespace GenRec.Tests;

/// <summary>The built <c>genrec</c> command line, run as a child process (as a user runs it).</summary>
internal static class GenRecCli
{
    /// <summary>Starts the CLI with its output drained in the background (for tests that kill it).</summary>
    public static Process Start(params string[] args)
    {
        var p = Process.Start(Info(args))!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Runs the CLI to the end: its exit code, then standard output and standard error.</summary>
    public static (int ExitCode, string Output) Run(params string[] args) =>
        Run(new Dictionary<string, string>(), args);

    /// <summary>Runs the CLI to the end with these environment variables added.</summary>
    public static (int ExitCode, string Output) Run(IReadOnlyDictionary<string, string> environment,
        params string[] args)
    {
        var info = Info(args);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output + "\n" + err.Result);
    }

    private static ProcessStartInfo Info(string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "GenRec.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }
}
