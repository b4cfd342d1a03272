using System.Runtime.InteropServices;

namespace GenRec.Data.Features;

/// <summary>
/// One observation on its way through <see cref="SequenceBuilder"/>: an item event or a feature value of a user, with
/// its time and its order in the input (ties keep file order). Fixed-size, so partitions spill to disk as raw bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BuildRecord
{
    public long Timestamp;
    public long Seq;
    public int User;
    public int Value;
    public ushort Action;
    public byte Kind;
    public byte Feedback;
    public int Pad;

    /// <summary>By user, then time; at equal times a feature token before an item; then input order.</summary>
    public static int Compare(in BuildRecord a, in BuildRecord b)
    {
        int c = a.User.CompareTo(b.User);
        if (c != 0) return c;
        c = a.Timestamp.CompareTo(b.Timestamp);
        if (c != 0) return c;
        // At equal times the feature token goes first: the item then sees the user's state as of that moment.
        c = (a.Kind == 0).CompareTo(b.Kind == 0);
        return c != 0 ? c : a.Seq.CompareTo(b.Seq);
    }
}
