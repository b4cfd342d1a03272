using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using GenRec.Data;

namespace GenRec.Training;

/// <summary>
/// SHA-256 (hex) of the data as a trainer sees it: every training sequence (tokens, times, kinds, actions, masks),
/// every evaluation example and the corpus. A resumed run refuses data whose fingerprint differs.
/// </summary>
internal static class DataFingerprint
{
    public static string Of(LeaveOneOutSplit split, long[] corpus)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in split.Train)
        {
            Add(h, new[] { t.UserId });
            Add(h, t.History); Add(h, t.HistoryTimestamps); Add(h, t.HistoryKinds); Add(h, t.HistoryActions);
            Add(h, t.Supervised);
        }
        foreach (var e in split.Eval)
        {
            Add(h, new[] { e.UserId, e.Target, e.TargetTimestamp });
            Add(h, e.History); Add(h, e.HistoryTimestamps); Add(h, e.HistoryKinds); Add(h, e.HistoryActions);
        }
        Add(h, corpus);
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    private static void Add<T>(IncrementalHash h, T[]? values) where T : unmanaged
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(len, values?.Length ?? -1);
        h.AppendData(len);
        if (values is not null) h.AppendData(MemoryMarshal.AsBytes(values.AsSpan()));
    }
}
