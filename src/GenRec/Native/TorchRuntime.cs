using System.Runtime.InteropServices;
using TorchSharp;

namespace GenRec.Native;

/// <summary>
/// Start-up of the tensor engine: makes TorchSharp's native library loadable on every supported Linux
/// (see <see cref="LibStdCxxCompatibility"/>), then selects device and thread count.
/// Call <see cref="EnsureLoadable"/> before the first use of <c>torch</c>; GenRec's own entry points do. Process-wide
/// memory tuning (<see cref="TuneProcess"/>) is not the library's decision: the executables opt into it.
/// </summary>
public static partial class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool _checked;

    /// <summary>Versions weakened in the copy this process loads (empty when nothing had to be done).</summary>
    public static IReadOnlyList<string> PatchedVersions { get; private set; } = [];

    /// <summary>The TorchSharp wrapper this process loads: the shipped file, or its patched copy.</summary>
    public static string? LoadedLibTorchSharp { get; private set; }

    /// <summary>
    /// Idempotent and thread-safe; a no-op off Linux and where the system libstdc++ is new enough. Otherwise
    /// TorchSharp's wrapper is loaded from a patched copy (<see cref="LibStdCxxCompatibility.LoadableCopy"/>),
    /// handed to the runtime when its own search fails; the shipped file is left as the build copied it.
    /// </summary>
    public static void EnsureLoadable()
    {
        lock (Gate)
        {
            if (_checked) return;
            _checked = true;
            if (!OperatingSystem.IsLinux()) return;
            var lib = FindLibTorchSharp();
            var std = LibStdCxxCompatibility.FindSystemLibStdCxx();
            if (lib is null || std is null) return;
            var provided = ElfImage.Read(std).VersionDefinitions;
            var copy = LibStdCxxCompatibility.LoadableCopy(lib, provided, out var weakened);
            PatchedVersions = weakened;
            LoadedLibTorchSharp = copy;
            if (copy == lib) return;
            string shipped = Path.GetDirectoryName(lib)!;
            // TorchSharp loads its wrapper by name (NativeLibrary.TryLoad and DllImport): the search finds the shipped
            // file, which this libstdc++ refuses, and then the runtime asks this event, which gives the copy.
            System.Runtime.Loader.AssemblyLoadContext.Default.ResolvingUnmanagedDll += (assembly, name) =>
            {
                if (assembly != typeof(torch).Assembly || name is not ("LibTorchSharp" or "libLibTorchSharp.so"))
                    return IntPtr.Zero;
                // A copy outside the shipped folder finds libtorch by soname once these are loaded from there.
                if (Path.GetDirectoryName(copy) != shipped)
                    foreach (var dependency in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
                        NativeLibrary.Load(Path.Combine(shipped, dependency));
                return NativeLibrary.Load(copy);
            };
        }
    }

    /// <summary>
    /// Process-wide settings that pay for GenRec's training and serving loops (transparent huge pages for libtorch's
    /// CPU allocator, glibc malloc keeping freed memory, OpenMP threads that sleep rather than spin while they wait):
    /// for programs whose process is GenRec's (the CLI, the service, the test host), called first thing, before
    /// libtorch is loaded. A program that merely references the library keeps its own settings. A no-op off Linux;
    /// each setting yields to the user's variables.
    /// </summary>
    public static void TuneProcess()
    {
        if (!OperatingSystem.IsLinux()) return;
        EnableHugePageAllocations();
        KeepFreedMemoryInProcess();
        WaitPassivelyBetweenParallelRegions();
    }

    /// <summary>
    /// Sets OMP_WAIT_POLICY=PASSIVE for libtorch's OpenMP runtime, unless the user set it or GOMP_SPINCOUNT. By default
    /// a thread that reaches the end of a parallel region spins for its siblings before sleeping; when another process
    /// has taken a core, the sibling it spins for is not running, and every one of a step's thousands of small
    /// parallel regions then costs a scheduler time slice. Measured (docs/results/shared-cpu.md): beside one
    /// CPU-bound process on 2 cores a step took 2.8× as long with spinning and 1.4× without it; alone, the same.
    /// </summary>
    private static void WaitPassivelyBetweenParallelRegions()
    {
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null
            || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null) return;
        try { _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>
    /// Asks libtorch's CPU allocator for transparent huge pages (THP_MEM_ALLOC_ENABLE), unless the user set it.
    /// Attention-sized tensors ([B, L, L]) are allocated and freed several times per step; with 4 KiB pages the
    /// page faults alone took about half the time (measured: one HSTU forward of 256 ML-1M users, 3.5 s → 0.84 s).
    /// Must happen before libtorch is loaded; .NET's Environment does not reach the native environment, so libc's setenv is used.
    /// </summary>
    private static void EnableHugePageAllocations()
    {
        try { _ = SetEnv("THP_MEM_ALLOC_ENABLE", "1", 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>
    /// Tells glibc's malloc to keep freed memory for reuse instead of handing it back to the kernel: no mmap for large
    /// blocks (M_MMAP_THRESHOLD) and no trimming of the heap top (M_TRIM_THRESHOLD). A training step allocates and
    /// frees the same attention-sized tensors each time; handed back, each is page-faulted and zeroed again on its
    /// next use (perf, `genrec bench train` on hstu-fast: the kernel's page clearing 7.1 % of samples → 4.0 %, the
    /// rest at start-up). Skipped when the user set either threshold through glibc's environment variables, or when
    /// GENREC_KEEP_FREED_MEMORY=0.
    /// </summary>
    private static void KeepFreedMemoryInProcess()
    {
        if (Environment.GetEnvironmentVariable("GENREC_KEEP_FREED_MEMORY") == "0"
            || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is not null) return;
        const int trimThreshold = -1, mmapThreshold = -3;
        try
        {
            _ = MallOpt(trimThreshold, int.MaxValue);
            _ = MallOpt(mmapThreshold, 1 << 30);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>Where TorchSharp will look for <c>libLibTorchSharp.so</c>, first match wins; null if absent.</summary>
    public static string? FindLibTorchSharp()
    {
        const string name = "libLibTorchSharp.so";
        string rid = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.Arm64 => "linux-arm64",
            _ => "linux-x64",
        };
        var roots = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? "" }
            .Where(r => r.Length > 0).Distinct();
        foreach (var root in roots)
        {
            foreach (var candidate in new[] { Path.Combine(root, name), Path.Combine(root, "runtimes", rid, "native", name) })
                if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; fails clearly when CUDA is asked for but absent.</summary>
    public static torch.Device ParseDevice(string device)
    {
        EnsureLoadable();
        var d = device.Trim().ToLowerInvariant();
        if (d == "cpu") return torch.CPU;
        if (d == "cuda" || d.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException($"--device {device}: CUDA is not available in this build (TorchSharp-cpu). Use --device cpu.");
            return new torch.Device(d);
        }
        throw new ArgumentException($"--device {device}: expected cpu, cuda or cuda:N.");
    }

    /// <summary>
    /// Sets libtorch's intra-op threads; 0 keeps the default (all cores). More threads than logical cores are refused:
    /// they only contend (9,999 threads hung a 2-core machine for minutes where 2 take 3 s).
    /// </summary>
    public static void SetThreads(int threads)
    {
        EnsureLoadable();
        int cores = Environment.ProcessorCount;
        if (threads < 0 || threads > cores)
            throw new ArgumentException($"--threads {threads}: expected 0 (all cores) or 1 to {cores}, the logical cores "
                + "of this machine.");
        if (threads > 0) torch.set_num_threads(threads);
    }
}
