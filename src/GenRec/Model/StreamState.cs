namespace GenRec.Model;

/// <summary>
/// Where incremental training stands on its event log (in the checkpoint's header): the last event trained (the
/// watermark), counts for the operator, and the update under way. Written in the same atomic checkpoint as the
/// weights and the optimiser, so that after a crash at any point a resume trains every event exactly once.
/// </summary>
public sealed record StreamState
{
    /// <summary>The event log this run reads (a file path or <c>sqlite:PATH</c> / <c>redis:HOST:PORT</c>); a resume on
    /// another log is refused, since the watermark numbers its events.</summary>
    public required string Source { get; init; }

    /// <summary>Sequence number of the last event trained (0: none yet). Events after it are new.</summary>
    public long Watermark { get; init; }

    /// <summary>Events consumed so far, summed over updates.</summary>
    public long EventsTrained { get; init; }

    /// <summary>Updates completed (one per run over the new events).</summary>
    public int Updates { get; init; }

    /// <summary>Timestamp (Unix seconds) of the newest event trained.</summary>
    public long NewestEventTime { get; init; }

    /// <summary>Items given a row since the base training (admitted), evicted to make room, and still waiting for
    /// <see cref="TrainingConfig.MinItemEvents"/> events.</summary>
    public long ItemsAdmitted { get; init; }

    /// <summary>Items whose rows were handed to newer items (<see cref="TrainingConfig.ItemCapacity"/>).</summary>
    public long ItemsEvicted { get; init; }

    /// <summary>The update under way, or null between updates.</summary>
    public StreamSpan? Pending { get; init; }
}
