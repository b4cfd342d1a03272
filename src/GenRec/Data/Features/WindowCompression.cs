namespace GenRec.Data.Features;

/// <summary>
/// The compression of one auxiliary feature's observations in time order (<see cref="SequenceBuilder.Compress"/>):
/// with a window of w &gt; 0 seconds, each distinct value is admitted once per window; with w = 0, only when it
/// differs from the last one admitted.
/// </summary>
internal sealed class WindowCompression
{
    private long _window = long.MinValue;
    private int _last = -1;
    private readonly HashSet<int> _seen = [];

    public bool Admit(long time, int value, long windowSeconds)
    {
        if (windowSeconds <= 0)
        {
            if (value == _last) return false;
            _last = value;
            return true;
        }
        long w = Math.DivRem(time, windowSeconds, out long rem) - (rem < 0 ? 1 : 0);
        if (w != _window) { _window = w; _seen.Clear(); }
        return _seen.Add(value);
    }
}
