namespace GenRec.Data.Features;

/// <summary>What <c>genrec prepare</c> built; saved as the prepared folder's <c>manifest.json</c>.</summary>
public sealed record PrepareSummary
{
    /// <summary>Format version of the prepared folder.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The schema's name.</summary>
    public string Name { get; init; } = "";

    /// <summary>When it was built (UTC, ISO 8601).</summary>
    public string Created { get; init; } = "";

    /// <summary>Users with at least one item event (the sequences stored).</summary>
    public long Users { get; init; }

    /// <summary>Item events read (main series).</summary>
    public long Events { get; init; }

    /// <summary>Distinct items in the events: the retrieval corpus.</summary>
    public long Items { get; init; }

    /// <summary>Tokens stored, all kinds.</summary>
    public long Tokens { get; init; }

    /// <summary>Tokens per kind ("item", then each feature's name).</summary>
    public Dictionary<string, long> TokensByKind { get; init; } = [];

    /// <summary>The embedding tables the model needs.</summary>
    public FeatureSpace Features { get; init; } = new();

    /// <summary>Columns read but not put into sequences (dense features, ignored columns), as "file: column (role)".</summary>
    public List<string> DroppedColumns { get; init; } = [];

    /// <summary>Positions with m_i = 0 because the next token is a feature token.</summary>
    public long MaskedBeforeFeatureTokens { get; init; }

    /// <summary>Positions with m_i = 0 because the next item was negative feedback.</summary>
    public long MaskedBeforeNegativeFeedback { get; init; }

    /// <summary>Item events with negative feedback.</summary>
    public long NegativeEvents { get; init; }

    /// <summary>Auxiliary observations removed by window compression (a repeat of a value already emitted in its window, or of an unchanged value).</summary>
    public long CompressedAway { get; init; }

    /// <summary>User keys seen only in user-feature sources: no events, so no sequence.</summary>
    public long UsersWithoutEvents { get; init; }

    /// <summary>Items in item sources that no event mentions (not in the corpus).</summary>
    public long ItemsWithoutEvents { get; init; }

    /// <summary>Empty feature values (unknown): no token.</summary>
    public long EmptyValues { get; init; }

    /// <summary>Wall time of the build in seconds.</summary>
    public double Seconds { get; init; }

    /// <summary>Input rows per second (all sources).</summary>
    public double RowsPerSecond { get; init; }

    /// <summary>Peak resident memory of the process in MiB.</summary>
    public double PeakMemoryMiB { get; init; }
}
