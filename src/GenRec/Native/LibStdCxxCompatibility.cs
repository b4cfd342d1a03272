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
    /// A loadable version of the library at <paramref name="libraryPath"/>: the file itself when the system libstdc++
    /// provides what it needs, otherwise a patched copy (<see cref="PlanPatch"/> applied) named after the original's
    /// content, <c>NAME.genrec-HASH.so</c>, beside it (so its <c>$ORIGIN</c> search path still finds libtorch) or,
    /// where that folder is read-only, in the user's cache (<see cref="CacheFolder"/>). The original is never written:
    /// a build copying it again, or another process loading it, is undisturbed. The copy is written to a temporary
    /// name and renamed into place, and checked byte for byte when it exists, so processes starting together agree
    /// on one complete file and a damaged copy is replaced (a rename never touches a file already loaded).
    /// </summary>
    /// <param name="libraryPath">The library as shipped.</param>
    /// <param name="provided">The version names the system libstdc++ defines.</param>
    /// <param name="weakened">The version names weakened in the copy (empty: the original is returned).</param>
    public static string LoadableCopy(string libraryPath, IEnumerable<string> provided,
        out IReadOnlyList<string> weakened)
    {
        var (bytes, image) = ReadSettled(libraryPath);
        var plan = PlanPatch(image, provided, Path.GetFileName(libraryPath));
        weakened = plan.Select(p => p.Name).ToList();
        if (plan.Count == 0) return libraryPath;
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..16];
        foreach (var need in plan)
        {
            ushort flags = (ushort)(need.Flags | ElfVersionNeed.WeakFlag);
            bytes[need.FlagsOffset] = (byte)(flags & 0xff);
            bytes[need.FlagsOffset + 1] = (byte)(flags >> 8);
        }
        string name = $"{Path.GetFileNameWithoutExtension(libraryPath)}.genrec-{hash}.so";
        var failures = new List<string>();
        foreach (var folder in new[] { Path.GetDirectoryName(Path.GetFullPath(libraryPath))!, CacheFolder })
        {
            string target = Path.Combine(folder, name);
            try
            {
                if (!SameContent(target, bytes)) WriteAtomically(target, bytes);
                return target;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                failures.Add($"{folder}: {e.Message}");
            }
        }
        throw new InvalidOperationException(
            $"{libraryPath} must be made loadable on this system's libstdc++ ({string.Join(", ", weakened)} missing), "
            + "but "
            + $"no folder for the patched copy is writable ({string.Join("; ", failures)}). Set XDG_CACHE_HOME to a "
            + "folder you own.");
    }

    /// <summary>
    /// Reads the library once a build copying it over has finished: the same complete ELF image twice in a row, tried
    /// for up to five seconds (a copy takes milliseconds); after that the last error stands.
    /// </summary>
    private static (byte[] Bytes, ElfImage Image) ReadSettled(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            try
            {
                var first = File.ReadAllBytes(path);
                var image = ElfImage.Parse(first, path);
                if (File.ReadAllBytes(path).AsSpan().SequenceEqual(first)) return (first, image);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException
                                          && DateTime.UtcNow < deadline)
            { }
            if (DateTime.UtcNow >= deadline) return (File.ReadAllBytes(path), ElfImage.Read(path));
            Thread.Sleep(20);
        }
    }

    /// <summary>Where patched copies go when the library's folder is read-only: $XDG_CACHE_HOME/genrec/native.</summary>
    public static string CacheFolder =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache
            ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
            "genrec", "native");

    private static bool SameContent(string path, byte[] expected)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.Length == expected.Length
                && File.ReadAllBytes(path).AsSpan().SequenceEqual(expected);
        }
        catch (IOException) { return false; }
    }

    private static void WriteAtomically(string target, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // A name of its own per writer: threads and processes racing here each rename a complete file into place.
        string tmp = $"{target}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var f = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                f.Write(bytes);
                f.Flush(flushToDisk: true);
            }
            File.Move(tmp, target, overwrite: true);
        }
        finally { TryDelete(tmp); }
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
