namespace GenRec.Native;

/// <summary>
/// Makes a prebuilt library that was linked against a newer libstdc++ loadable on an older one,
/// when the only thing it needs from the newer version is a symbol-less marker.
/// </summary>
/// <remarks>
/// TorchSharp's <c>libLibTorchSharp.so</c> is built with GCC 13 and asks for <c>GLIBCXX_3.4.32</c>,
/// which Debian 12 and Ubuntu 22.04 lack. The only symbol bound to that version is
/// <c>_ZSt21ios_base_library_initv</c>, a marker GCC 13 emits to pull in iostream initialisation;
/// nothing relocates against it. Marking the version requirement weak (VER_FLG_WEAK in its vernaux
/// entry) lets the dynamic loader accept the older libstdc++, which already initialises iostreams itself.
/// Any other missing version, or a missing version that real symbols bind to, is refused with a clear error.
/// </remarks>
public static class LibStdCxxCompatibility
{
    /// <summary>Symbols that exist only as link-time markers and are safe to leave unresolved.</summary>
    public static IReadOnlySet<string> MarkerSymbols { get; } = new HashSet<string>(StringComparer.Ordinal) { "_ZSt21ios_base_library_initv" };

    private const string LibStdCxxSoname = "libstdc++.so.6";

    /// <summary>
    /// The libstdc++ version requirements of <paramref name="library"/> that <paramref name="provided"/> lacks
    /// and that are not weak yet. Empty when the system libstdc++ is new enough (nothing to do).
    /// </summary>
    /// <exception cref="NotSupportedException">A missing version binds symbols other than known markers: weakening it would break the library.</exception>
    public static IReadOnlyList<ElfVersionNeed> PlanPatch(ElfImage library, IEnumerable<string> provided, string libraryName = "library")
    {
        var have = new HashSet<string>(provided, StringComparer.Ordinal);
        var plan = new List<ElfVersionNeed>();
        foreach (var need in library.VersionNeeds)
        {
            if (need.File != LibStdCxxSoname || need.IsWeak || have.Contains(need.Name)) continue;
            var bound = library.UndefinedSymbolsFor(need.Index);
            var real = bound.Where(s => !MarkerSymbols.Contains(s)).ToList();
            if (real.Count > 0)
                throw new NotSupportedException(
                    $"{libraryName} needs {need.Name} from {LibStdCxxSoname} for {string.Join(", ", real.Take(5))}; " +
                    "the system libstdc++ does not provide it. Install a newer libstdc++6 (GCC 13 or later).");
            plan.Add(need);
        }
        return plan;
    }

    /// <summary>
    /// Applies <see cref="PlanPatch"/> to the file at <paramref name="libraryPath"/>: writes a patched copy beside it
    /// and renames it over the original, so a crash never leaves a half-written library.
    /// Returns the version names that were weakened (empty: the file was left untouched).
    /// </summary>
    public static IReadOnlyList<string> PatchFile(string libraryPath, IEnumerable<string> provided)
    {
        var bytes = File.ReadAllBytes(libraryPath);
        var plan = PlanPatch(ElfImage.Parse(bytes, libraryPath), provided, Path.GetFileName(libraryPath));
        if (plan.Count == 0) return [];
        foreach (var need in plan)
        {
            ushort flags = (ushort)(need.Flags | ElfVersionNeed.WeakFlag);
            bytes[need.FlagsOffset] = (byte)(flags & 0xff);
            bytes[need.FlagsOffset + 1] = (byte)(flags >> 8);
        }
        string tmp = libraryPath + $".genrec-{Environment.ProcessId}.tmp";
        try
        {
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, libraryPath, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            TryDelete(tmp);
            throw new InvalidOperationException(
                $"{libraryPath} must be made loadable on this system's libstdc++ ({string.Join(", ", plan.Select(p => p.Name))} missing), " +
                "but its folder is not writable. Rebuild GenRec into a folder you own.", e);
        }
        return plan.Select(p => p.Name).ToList();
    }

    /// <summary>
    /// The libstdc++ this process uses: the one already mapped (the .NET runtime links it), else the first found
    /// in the usual library folders. Null when none is found (not a glibc system).
    /// </summary>
    public static string? FindSystemLibStdCxx()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash >= 0 && line.AsSpan(slash).EndsWith("/" + LibStdCxxSoname, StringComparison.Ordinal) ||
                    slash >= 0 && Path.GetFileName(line[slash..]).StartsWith("libstdc++.so.6", StringComparison.Ordinal))
                    return line[slash..];
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }

        string[] dirs = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib"];
        return dirs.Select(d => Path.Combine(d, LibStdCxxSoname)).FirstOrDefault(File.Exists);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
