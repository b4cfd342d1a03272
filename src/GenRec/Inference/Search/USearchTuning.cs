using System.Reflection;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;

namespace GenRec.Inference.Search;

/// <summary>
/// The search and build beam widths of a USearch index loaded from a file: they are runtime settings the file does
/// not keep (a loaded index searches with USearch's default, 64, however it was built), and Cloud.Unum.USearch 2.26
/// has no call to set them; its native library has, on the index's handle.
/// </summary>
internal static partial class USearchTuning
{
    private static readonly FieldInfo? Handle =
        typeof(USearchIndex).GetField("_index", BindingFlags.NonPublic | BindingFlags.Instance);

    /// <summary>Sets both beam widths of <paramref name="index"/>.</summary>
    public static void SetExpansion(USearchIndex index, int expansionAdd, int expansionSearch)
    {
        var handle = Handle?.GetValue(index) as IntPtr?
            ?? throw new InvalidOperationException("Cloud.Unum.USearch no longer keeps its native index where GenRec "
                + "reads it (USearchIndex._index); update USearchTuning for the pinned version.");
        ChangeExpansionAdd(handle, (nuint)expansionAdd, out var error);
        Check(error);
        ChangeExpansionSearch(handle, (nuint)expansionSearch, out error);
        Check(error);
    }

    private static void Check(IntPtr error)
    {
        if (error != IntPtr.Zero)
            throw new USearchException($"USearch: {Marshal.PtrToStringAnsi(error)}");
    }

    [LibraryImport("libusearch_c", EntryPoint = "usearch_change_expansion_add")]
    private static partial void ChangeExpansionAdd(IntPtr index, nuint expansion, out IntPtr error);

    [LibraryImport("libusearch_c", EntryPoint = "usearch_change_expansion_search")]
    private static partial void ChangeExpansionSearch(IntPtr index, nuint expansion, out IntPtr error);
}
