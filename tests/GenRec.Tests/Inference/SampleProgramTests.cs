using System.Diagnostics;
using GenRec.Model;

namespace GenRec.Tests.Inference;

/// <summary>The library as a library: the README's sample trains, saves, loads and recommends in 30 lines.</summary>
public class SampleProgramTests
{
    [Fact]
    public async Task TheQuickStartSampleTrainsSavesLoadsAndRecommends()
    {
        var source = Path.Combine(Repository.Root, "samples", "QuickStart", "Program.cs");
        Assert.True(File.ReadAllLines(source).Length <= 30, "samples/QuickStart/Program.cs is longer than 30 lines");
        // Built beside the tests, in the same configuration (tests/GenRec.Tests/bin/<Configuration>/net10.0/).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var dll = Path.Combine(Repository.Root, "samples", "QuickStart", "bin", configuration, "net10.0",
            "QuickStart.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");

        using var dir = new TempDir();
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dir.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(dll);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var lines = (await p.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(p.WaitForExit(120_000), "the sample did not finish in two minutes");
        Assert.True(p.ExitCode == 0, await err);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("user 1: item ", l, StringComparison.Ordinal));
        // What it saved is a checkpoint every command reads.
        var header = Checkpoint.ReadHeader(Path.Combine(dir.Path, "model.ckpt"));
        Assert.Equal(3, header.Epoch);
        Assert.NotNull(header.ItemKeys);
    }
}
