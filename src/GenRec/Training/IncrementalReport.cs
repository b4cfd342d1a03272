namespace GenRec.Training;

/// <summary>What one incremental update did.</summary>
public sealed record IncrementalReport
{
    /// <summary>The event log.</summary>
    public required string Source { get; init; }

    /// <summary>Watermark before and after the update.</summary>
    public long From { get; init; }

    /// <summary>The new watermark (equal to <see cref="From"/> when there was nothing new or the update was
    /// interrupted).</summary>
    public long To { get; init; }

    /// <summary>Events in the update.</summary>
    public int Events { get; init; }

    /// <summary>Whether there were no events after the watermark.</summary>
    public bool NothingNew { get; init; }

    /// <summary>Whether the update stopped early (Ctrl-C) after writing a checkpoint to resume from.</summary>
    public bool Interrupted { get; init; }

    /// <summary>Whether this run continued an update a previous run had started.</summary>
    public bool Resumed { get; init; }

    /// <summary>Items given a row in this update.</summary>
    public int ItemsAdmitted { get; init; }

    /// <summary>Items whose rows were handed over to newer items.</summary>
    public int ItemsEvicted { get; init; }

    /// <summary>New items with fewer events than the admission rule asks (left out until they have them).</summary>
    public int ItemsWaiting { get; init; }

    /// <summary>New items refused for want of room (the capacity is full of items seen in this update).</summary>
    public int ItemsRefused { get; init; }

    /// <summary>Items the model knows after the update.</summary>
    public int Items { get; init; }

    /// <summary>Rows of the item table and the bytes they take with their optimiser state (weights and two
    /// moments, float32).</summary>
    public long TableRows { get; init; }

    /// <summary>Bytes of the item table with its optimiser state.</summary>
    public long TableBytes { get; init; }

    /// <summary>Training windows built from the new events, and their supervised positions.</summary>
    public int Windows { get; init; }

    /// <summary>Next-item targets trained on (new events with history before them).</summary>
    public long Targets { get; init; }

    /// <summary>Steps, tokens and seconds of training.</summary>
    public int Steps { get; init; }

    /// <summary>Non-padding tokens trained on.</summary>
    public long Tokens { get; init; }

    /// <summary>Wall seconds of the whole update.</summary>
    public double Seconds { get; init; }

    /// <summary>The published model, if any.</summary>
    public string? Published { get; init; }
}
