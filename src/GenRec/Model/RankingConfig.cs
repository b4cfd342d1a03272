namespace GenRec.Model;

/// <summary>Settings of a ranking experiment (the config's <c>ranking</c> section), used by <c>genrec rank-train</c>.</summary>
public sealed record RankingConfig
{
    /// <summary>interleaved (Φ0, a0, Φ1, a1, …; M-FALCON scoring), summed (actions added to items; length n), or dlrm (the baseline).</summary>
    public string Variant { get; init; } = "interleaved";

    /// <summary>The last items of every user that are candidates.</summary>
    public int Candidates { get; init; } = 10;

    /// <summary>Fraction of users in the test part (seeded hash of the user id).</summary>
    public double TestFraction { get; init; } = 0.25;

    /// <summary>Seed of the user split.</summary>
    public int SplitSeed { get; init; } = 42;

    /// <summary>Items of history per user (interleaved sequences are twice as long in tokens).</summary>
    public int HistoryItems { get; init; } = 100;

    /// <summary>Hidden units of the multi-task head (and of the baseline's MLP).</summary>
    public int HeadHidden { get; init; } = 64;

    /// <summary>Candidates per M-FALCON micro-batch.</summary>
    public int MicroBatch { get; init; } = 128;

    /// <summary>Checks the values; errors name the field.</summary>
    public void Validate()
    {
        if (Variant is not ("interleaved" or "summed" or "dlrm")) throw new ArgumentException($"ranking.variant is '{Variant}'; expected interleaved, summed or dlrm.");
        if (Candidates < 1) throw new ArgumentException($"ranking.candidates is {Candidates}; expected at least 1.");
        if (TestFraction is <= 0 or >= 1) throw new ArgumentException($"ranking.testFraction is {TestFraction}; expected between 0 and 1.");
        if (HistoryItems < 1) throw new ArgumentException($"ranking.historyItems is {HistoryItems}; expected at least 1.");
        if (HeadHidden < 1) throw new ArgumentException($"ranking.headHidden is {HeadHidden}; expected at least 1.");
        if (MicroBatch < 1) throw new ArgumentException($"ranking.microBatch is {MicroBatch}; expected at least 1.");
    }
}
