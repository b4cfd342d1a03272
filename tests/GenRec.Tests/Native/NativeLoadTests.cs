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

    [Fact]
    public void PatchWeakensOnlyTheMissingMarkerVersionAndIsANoOpAfterwards()
    {
        var tmp = Path.Combine(Path.GetTempPath(), $"genrec-elf-{Guid.NewGuid():N}.so");
        try
        {
            File.Copy(Lib, tmp);
            // Restore the original (unpatched) flag in the copy, so the test does not depend on whether this machine needed the patch.
            var image = ElfImage.Read(tmp);
            var target = image.VersionNeeds.Single(n => n.Name == "GLIBCXX_3.4.32");
            var bytes = File.ReadAllBytes(tmp);
            bytes[target.FlagsOffset] &= unchecked((byte)~ElfVersionNeed.WeakFlag);
            File.WriteAllBytes(tmp, bytes);
            var before = File.ReadAllBytes(tmp);

            var provided = image.VersionNeeds.Select(n => n.Name).Where(n => n != "GLIBCXX_3.4.32").ToList();
            var patched = LibStdCxxCompatibility.PatchFile(tmp, provided);
            Assert.Equal(["GLIBCXX_3.4.32"], patched);

            var after = File.ReadAllBytes(tmp);
            var diff = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
            Assert.Equal([(int)target.FlagsOffset], diff);
            Assert.True(ElfImage.Read(tmp).VersionNeeds.Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak);

            Assert.Empty(LibStdCxxCompatibility.PatchFile(tmp, provided));
            Assert.Equal(after, File.ReadAllBytes(tmp));
        }
        finally { File.Delete(tmp); }
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
