using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>An encoded history for <see cref="MFalcon"/>: every layer's keys and values [1, H, n, d] and the history's times.</summary>
public sealed class HistoryCache : IDisposable
{
    internal HistoryCache(Tensor[] keys, Tensor[] values, Tensor timestamps, int length, long requestTime)
    {
        Keys = keys;
        Values = values;
        Timestamps = timestamps;
        Length = length;
        RequestTime = requestTime;
    }

    /// <summary>Per layer, the history's keys [1, H, n, d_qk].</summary>
    public Tensor[] Keys { get; }

    /// <summary>Per layer, the history's values [1, H, n, d_v].</summary>
    public Tensor[] Values { get; }

    /// <summary>The history's timestamps [1, n].</summary>
    public Tensor Timestamps { get; }

    /// <summary>History length n (tokens).</summary>
    public int Length { get; }

    /// <summary>The time candidates are scored at.</summary>
    public long RequestTime { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in Keys.Concat(Values)) t.Dispose();
        Timestamps.Dispose();
    }
}
