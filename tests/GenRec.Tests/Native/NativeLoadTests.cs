using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Tests.Native;

public class NativeLoadTests
{
    private static string Lib => TorchRuntime.FindLibTorchSharp() ?? throw new InvalidOperationException("libLibTorchSharp.so not in the test output");

    [Fact]
    public void MatmulAndAutogradRunAfterStartup()
    {
        TorchRuntime.EnsureLoadable();
        using var scope = NewDisposeScope();
        manual_seed(1);
        var a = randn(1024, 1024);
        var b = randn(1024, 1024);
        var c = a.matmul(b);
        // Check one entry against a dot product computed in managed code.
        var ar = a[3].data<float>().ToArray();
        var bc = b[.., 7].contiguous().data<float>().ToArray();
        double expect = 0; for (int i = 0; i < 1024; i++) expect += (double)ar[i] * bc[i];
        Assert.Equal(expect, c[3, 7].item<float>(), 2);

        var w = tensor(new float[] { 1f, 2f }, requires_grad: true);
        var loss = (w * w).sum();
        loss.backward();
        Assert.Equal(new float[] { 2f, 4f }, w.grad!.data<float>().ToArray());
    }

    [Fact]
    public void PlanIsEmptyWhenLibStdCxxProvidesEveryVersion()
    {
        var image = ElfImage.Read(Lib);
        var all = image.VersionNeeds.Select(n => n.Name);
        Assert.Empty(LibStdCxxCompatibility.PlanPatch(image, all));
    }

    /// <summary>A copy of the shipped library with the marker version's flag as the package has it (not weak).</summary>
    private static (string Path, ElfVersionNeed Target, List<string> Provided) Unpatched(TempDir dir)
    {
        var path = Path.Combine(dir.Path, "libLibTorchSharp.so");
        File.Copy(Lib, path);
        var image = ElfImage.Read(path);
        var target = image.VersionNeeds.Single(n => n.Name == "GLIBCXX_3.4.32");
        var bytes = File.ReadAllBytes(path);
        bytes[target.FlagsOffset] &= unchecked((byte)~ElfVersionNeed.WeakFlag);
        File.WriteAllBytes(path, bytes);
        return (path, target, image.VersionNeeds.Select(n => n.Name).Where(n => n != "GLIBCXX_3.4.32").ToList());
    }

    [Fact]
    public void TheCopyWeakensOnlyTheMissingMarkerVersionAndTheShippedFileIsNeverWritten()
    {
        using var dir = new TempDir();
        var (shipped, target, provided) = Unpatched(dir);
        var before = File.ReadAllBytes(shipped);

        var copy = LibStdCxxCompatibility.LoadableCopy(shipped, provided, out var weakened);
        Assert.Equal(["GLIBCXX_3.4.32"], weakened);
        Assert.Equal(dir.Path, Path.GetDirectoryName(copy));
        Assert.Matches(@"^libLibTorchSharp\.genrec-[0-9a-f]{16}\.so$", Path.GetFileName(copy));
        Assert.Equal(before, File.ReadAllBytes(shipped));
        var after = File.ReadAllBytes(copy);
        var diff = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        Assert.Equal([(int)target.FlagsOffset], diff);
        Assert.True(ElfImage.Read(copy).VersionNeeds.Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak);

        // Again: the same copy, untouched (a process may have it loaded).
        var written = File.GetLastWriteTimeUtc(copy);
        Assert.Equal(copy, LibStdCxxCompatibility.LoadableCopy(shipped, provided, out _));
        Assert.Equal(written, File.GetLastWriteTimeUtc(copy));
        // Nothing to weaken: the shipped file itself.
        var everything = provided.Append("GLIBCXX_3.4.32");
        Assert.Equal(shipped, LibStdCxxCompatibility.LoadableCopy(shipped, everything, out var none));
        Assert.Empty(none);
    }

    [Fact]
    public void StartsRacingEachOtherAgreeOnOneCompleteCopyAndReplaceADamagedOne()
    {
        using var dir = new TempDir();
        var (shipped, _, provided) = Unpatched(dir);
        var expected = File.ReadAllBytes(LibStdCxxCompatibility.LoadableCopy(shipped, provided, out _));
        var copy = Directory.GetFiles(dir.Path, "*.genrec-*.so").Single();
        File.WriteAllBytes(copy, expected[..(expected.Length / 2)]);   // a copy cut short

        using var start = new Barrier(8);
        var paths = Enumerable.Range(0, 8).AsParallel().WithDegreeOfParallelism(8).Select(i =>
        {
            start.SignalAndWait();
            return LibStdCxxCompatibility.LoadableCopy(shipped, provided, out _);
        }).ToList();

        Assert.All(paths, p => Assert.Equal(copy, p));
        Assert.Equal(expected, File.ReadAllBytes(copy));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void ThisProcessLoadsTheCopyAndLeavesTheFileTheBuildCopiesAsShipped()
    {
        TorchRuntime.EnsureLoadable();
        using (var scope = NewDisposeScope()) _ = ones(2).sum().item<float>();
        if (TorchRuntime.PatchedVersions.Count == 0) return;   // a libstdc++ new enough: the shipped file is loaded
        // The build copies the shipped file over bin/ whenever it differs; it must never differ.
        Assert.False(ElfImage.Read(Lib).VersionNeeds.Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak);
        var maps = File.ReadAllText("/proc/self/maps");
        Assert.Contains(TorchRuntime.LoadedLibTorchSharp!, maps);
        Assert.DoesNotContain(Lib + "\n", maps);
    }

    [Fact]
    public async Task CommandsStartedTogetherWhileTheBuildCopiesTheWrapperAgainAllRun()
    {
        // A fresh install of the CLI: hard links (the host resolves symbolic ones), except the wrapper, which the
        // "build" below writes in place, and no patched copy yet.
        using var dir = new TempDir();
        var install = Path.Combine(dir.Path, "bin");
        using (var cp = System.Diagnostics.Process.Start("cp", ["-al", AppContext.BaseDirectory, install])!)
            cp.WaitForExit();
        var wrapper = Path.Combine(install, Path.GetRelativePath(AppContext.BaseDirectory, Lib));
        foreach (var copy in Directory.GetFiles(Path.GetDirectoryName(wrapper)!, "libLibTorchSharp.genrec-*"))
            File.Delete(copy);
        File.Delete(wrapper);
        File.Copy(Lib, wrapper);
        var shipped = File.ReadAllBytes(Lib);
        using var stop = new CancellationTokenSource();
        // What `dotnet run` does when it finds the wrapper changed: copy the package's file over it, in place, while
        // the commands start (for their first second: the runtime's own probe of the shipped file, later, maps it
        // and is not protected against a rewrite under it; see docs/results/reliability.md).
        var build = Task.Run(() =>
        {
            var until = DateTime.UtcNow.AddSeconds(1);
            while (!stop.IsCancellationRequested && DateTime.UtcNow < until)
            {
                using (var f = new FileStream(wrapper, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
                    f.Write(shipped);
                Thread.Sleep(5);
            }
        });
        var runs = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in new[] { Path.Combine(install, "GenRec.Cli.dll"), "bench", "attention", "--lengths", "8",
                "--tokens", "64", "--repeats", "1", "--threads", "1" })
                psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output + err.Result);
        })).ToList();
        var results = await Task.WhenAll(runs);
        stop.Cancel();
        await build;
        foreach (var (code, output) in results) Assert.True(code == 0, output);
        Assert.Equal(shipped, File.ReadAllBytes(wrapper));
        if (TorchRuntime.PatchedVersions.Count > 0)   // this machine needs the patch: the copy is beside the wrapper
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(wrapper)!, "libLibTorchSharp.genrec-*.so"));
    }

    /// <summary>
    /// libtorch's OpenMP threads sleep rather than spin while waiting for a sibling (docs/results/shared-cpu.md), as
    /// its own OpenMP runtime reports at start-up (its default: spin 300,000 times first); a setting of the user's
    /// wins.
    /// </summary>
    [Theory]
    [InlineData(null, "GOMP_SPINCOUNT = '0'")]
    [InlineData("ACTIVE", "OMP_WAIT_POLICY = 'ACTIVE'")]
    public void OpenMpThreadsWaitPassivelyUnlessTheUserSaysOtherwise(string? users, string expected)
    {
        var environment = new Dictionary<string, string> { ["OMP_DISPLAY_ENV"] = "VERBOSE" };
        if (users is not null) environment["OMP_WAIT_POLICY"] = users;
        var (code, output) = GenRecCli.Run(environment, "bench", "attention", "--lengths", "8", "--tokens", "64",
            "--repeats", "1", "--threads", "1");
        Assert.True(code == 0, output);
        Assert.Contains(expected, output);
    }

    [Fact]
    public void RefusesToWeakenAVersionThatRealSymbolsNeed()
    {
        var image = ElfImage.Read(Lib);
        // Pretend libstdc++ lacks GLIBCXX_3.4.30, which real symbols bind to.
        var provided = image.VersionNeeds.Select(n => n.Name).Where(n => n != "GLIBCXX_3.4.30");
        var e = Assert.Throws<NotSupportedException>(() => LibStdCxxCompatibility.PlanPatch(image, provided, "libX.so"));
        Assert.Contains("GLIBCXX_3.4.30", e.Message);
    }

    [Fact]
    public void RejectsNonElfWithTheFileName()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfImage.Parse(new byte[100], "notelf.bin"));
        Assert.Contains("notelf.bin", e.Message);
    }
}
