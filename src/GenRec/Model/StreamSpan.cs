namespace GenRec.Model;

/// <summary>
/// One incremental update under way: the events after the watermark up to <see cref="To"/>, and how far training on
/// them got. A resume rebuilds the same sequences from the same events and continues at (<see cref="Pass"/>,
/// <see cref="Step"/>).
/// </summary>
public sealed record StreamSpan
{
    /// <summary>Sequence number of the span's last event.</summary>
    public long To { get; init; }

    /// <summary>Events in the span.</summary>
    public int Events { get; init; }

    /// <summary>SHA-256 (hex) of the span's events: a log changed under a pending update is refused.</summary>
    public required string Digest { get; init; }

    /// <summary>Passes over the span asked for.</summary>
    public int Passes { get; init; } = 1;

    /// <summary>Replay: windows of earlier history mixed in per new window.</summary>
    public double Replay { get; init; }

    /// <summary>The pass under way (0-based).</summary>
    public int Pass { get; init; }

    /// <summary>Steps taken in that pass.</summary>
    public int Step { get; init; }
}
