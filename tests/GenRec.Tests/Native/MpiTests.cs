namespace GenRec.Tests.Native;

/// <summary>
/// The MPI binding (GenRec.Native.Mpi) against Debian's Open MPI: two and three ranks under mpirun agree on
/// all-reduce, broadcast, all-gather and all-to-all, each rank checking the answer it can compute itself.
/// </summary>
public class MpiTests
{
    [MpiFact]
    public void CollectivesGiveEveryRankTheRightAnswer()
    {
        foreach (var ranks in new[] { "2", "3" })
        {
            var (code, output) = Mpirun(ranks, "bench", "allreduce", "--sizes", "1024,65536", "--repeats", "2");
            Assert.True(code == 0, output);
            Assert.Contains($"{ranks} ranks: all-reduce, broadcast, all-gather and all-to-all correct", output);
            Assert.Matches(@"all-reduce 256 KiB: median [0-9.]+ ms, bus bandwidth [0-9.]+ GB/s", output);
        }
    }

    [Fact]
    public void WithoutMpirunTheCommandSaysHowToStartIt()
    {
        var (code, output) = GenRecCli.Run("bench", "allreduce");
        Assert.NotEqual(0, code);
        Assert.Contains("runs under mpirun: mpirun -np 2 genrec bench allreduce", output);
    }

    private static (int Code, string Output) Mpirun(string ranks, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("mpirun")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // CI runs as root on 2 cores: both flags are needed there and harmless elsewhere.
        foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks, "dotnet",
            Path.Combine(AppContext.BaseDirectory, "GenRec.Cli.dll") }.Concat(args))
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) p.Kill(entireProcessTree: true);
        return (p.ExitCode, output + "\n" + err.Result);
    }
}

/// <summary>
/// A test that needs Debian's Open MPI (mpirun): skipped where it is missing, unless GENREC_REQUIRE_MPI=1 (set by
/// .ci/run, which installs it) makes that a failure.
/// </summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        bool installed = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Any(d => File.Exists(Path.Combine(d, "mpirun")));
        if (!installed && Environment.GetEnvironmentVariable("GENREC_REQUIRE_MPI") != "1")
            Skip = "mpirun is not installed (.ci/run installs openmpi-bin and sets GENREC_REQUIRE_MPI=1).";
    }
}
