using System.Buffers.Binary;
using System.Text;

namespace GenRec.Native;

/// <summary>One entry of a shared library's <c>.gnu.version_r</c>: "I need version <see cref="Name"/> of <see cref="File"/>".</summary>
/// <param name="File">The library the version is required from, for example <c>libstdc++.so.6</c>.</param>
/// <param name="Name">The version name, for example <c>GLIBCXX_3.4.32</c>.</param>
/// <param name="Flags">The vernaux flags (0x2 = VER_FLG_WEAK).</param>
/// <param name="Index">The version index that <c>.gnu.version</c> uses for symbols bound to this version.</param>
/// <param name="FlagsOffset">File offset of the 16-bit flags field, so it can be patched.</param>
public sealed record ElfVersionNeed(string File, string Name, ushort Flags, ushort Index, long FlagsOffset)
{
    /// <summary>VER_FLG_WEAK: a missing weak version is a warning for the dynamic loader, not an error.</summary>
    public const ushort WeakFlag = 0x2;

    /// <summary>Whether the entry is already weak.</summary>
    public bool IsWeak => (Flags & WeakFlag) != 0;
}

/// <summary>
/// The few parts of a 64-bit little-endian ELF shared library that symbol versioning needs:
/// required versions (<c>.gnu.version_r</c>), defined versions (<c>.gnu.version_d</c>) and the
/// undefined dynamic symbols bound to each version index. Nothing else is parsed.
/// </summary>
public sealed class ElfImage
{
    private const uint ShtDynSym = 11;
    private const uint ShtGnuVerdef = 0x6ffffffd;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;

    private ElfImage(IReadOnlyList<ElfVersionNeed> needs, IReadOnlyList<string> definitions, IReadOnlyDictionary<ushort, List<string>> undefinedSymbolsByVersion)
    {
        VersionNeeds = needs;
        VersionDefinitions = definitions;
        _undefinedSymbolsByVersion = undefinedSymbolsByVersion;
    }

    private readonly IReadOnlyDictionary<ushort, List<string>> _undefinedSymbolsByVersion;

    /// <summary>Versions this library requires from other libraries.</summary>
    public IReadOnlyList<ElfVersionNeed> VersionNeeds { get; }

    /// <summary>Versions this library defines (for example every <c>GLIBCXX_*</c> of libstdc++).</summary>
    public IReadOnlyList<string> VersionDefinitions { get; }

    /// <summary>Undefined dynamic symbols that are bound to the given version index.</summary>
    public IReadOnlyList<string> UndefinedSymbolsFor(ushort versionIndex) =>
        _undefinedSymbolsByVersion.TryGetValue(versionIndex, out var list) ? list : [];

    /// <summary>Reads an ELF file; throws <see cref="InvalidDataException"/> naming the file when it is not a 64-bit little-endian ELF.</summary>
    public static ElfImage Read(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses ELF bytes; <paramref name="name"/> is used in error messages.</summary>
    public static ElfImage Parse(ReadOnlySpan<byte> b, string name)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            throw new InvalidDataException($"{name}: not an ELF file (bad magic).");
        if (b[4] != 2 || b[5] != 1)
            throw new InvalidDataException($"{name}: only 64-bit little-endian ELF is supported (class {b[4]}, data {b[5]}).");

        long shoff = (long)U64(b, 0x28);
        int shentsize = U16(b, 0x3A), shnum = U16(b, 0x3C);
        if (shoff <= 0 || shentsize < 64 || shoff + (long)shentsize * shnum > b.Length)
            throw new InvalidDataException($"{name}: section header table out of range.");

        var sections = new (uint Type, long Offset, long Size, int Link)[shnum];
        for (int i = 0; i < shnum; i++)
        {
            int h = checked((int)(shoff + (long)i * shentsize));
            sections[i] = (U32(b, h + 4), (long)U64(b, h + 24), (long)U64(b, h + 32), (int)U32(b, h + 40));
            if (sections[i].Offset + sections[i].Size > b.Length && sections[i].Type != 8 /* NOBITS */)
                throw new InvalidDataException($"{name}: section {i} lies outside the file.");
        }

        var needs = new List<ElfVersionNeed>();
        var defs = new List<string>();
        var symbols = new Dictionary<ushort, List<string>>();
        int dynsym = -1, versym = -1;
        for (int s = 0; s < shnum; s++)
        {
            var (type, off, _, link) = sections[s];
            if (type == ShtGnuVerneed)
            {
                long strtab = sections[link].Offset;
                long vn = off;
                while (true)
                {
                    int cnt = U16(b, (int)vn + 2);
                    string file = Str(b, strtab + U32(b, (int)vn + 4));
                    long aux = vn + U32(b, (int)vn + 8);
                    for (int a = 0; a < cnt; a++)
                    {
                        ushort flags = U16(b, (int)aux + 4), other = U16(b, (int)aux + 6);
                        needs.Add(new ElfVersionNeed(file, Str(b, strtab + U32(b, (int)aux + 8)), flags, other, aux + 4));
                        uint next = U32(b, (int)aux + 12);
                        if (next == 0) break;
                        aux += next;
                    }
                    uint vnNext = U32(b, (int)vn + 12);
                    if (vnNext == 0) break;
                    vn += vnNext;
                }
            }
            else if (type == ShtGnuVerdef)
            {
                long strtab = sections[link].Offset;
                long vd = off;
                while (true)
                {
                    long aux = vd + U32(b, (int)vd + 12);
                    defs.Add(Str(b, strtab + U32(b, (int)aux)));
                    uint next = U32(b, (int)vd + 16);
                    if (next == 0) break;
                    vd += next;
                }
            }
            else if (type == ShtDynSym) dynsym = s;
            else if (type == ShtGnuVersym) versym = s;
        }

        if (dynsym >= 0 && versym >= 0)
        {
            var (_, symOff, symSize, strLink) = sections[dynsym];
            long strtab = sections[strLink].Offset, verOff = sections[versym].Offset;
            long count = symSize / 24;
            for (long i = 1; i < count; i++)
            {
                int e = (int)(symOff + i * 24);
                ushort shndx = U16(b, e + 6);
                if (shndx != 0) continue;
                ushort ver = (ushort)(U16(b, (int)(verOff + i * 2)) & 0x7fff);
                if (!symbols.TryGetValue(ver, out var list)) symbols[ver] = list = [];
                list.Add(Str(b, strtab + U32(b, e)));
            }
        }
        return new ElfImage(needs, defs, symbols);
    }

    private static ushort U16(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt16LittleEndian(b[o..]);
    private static uint U32(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);
    private static ulong U64(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt64LittleEndian(b[o..]);

    private static string Str(ReadOnlySpan<byte> b, long o)
    {
        var s = b[(int)o..];
        int end = s.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? s : s[..end]);
    }
}
