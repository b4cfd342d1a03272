namespace GenRec.Data;

/// <summary>Shape of a generated dataset (see <see cref="SyntheticData"/>).</summary>
public sealed record SyntheticOptions
{
    /// <summary>Number of users.</summary>
    public int Users { get; init; } = 1500;

    /// <summary>Number of items (ids 1..Items).</summary>
    public int Items { get; init; } = 1200;

    /// <summary>Number of latent interests; items are split evenly among them.</summary>
    public int Interests { get; init; } = 24;

    /// <summary>Shortest history.</summary>
    public int MinLength { get; init; } = 20;

    /// <summary>Longest history.</summary>
    public int MaxLength { get; init; } = 120;

    /// <summary>Chance per event of moving to another of the user's interests.</summary>
    public double DriftProbability { get; init; } = 0.12;

    /// <summary>Chance per event that the user continues along the item chain of the current interest (series-like order).</summary>
    public double ChainProbability { get; init; } = 0.55;

    /// <summary>Chance of a negative rating (1 or 2).</summary>
    public double NegativeProbability { get; init; } = 0.1;

    /// <summary>
    /// A changing catalog: with a positive value every item is born at a random time over the log's year and can be
    /// chosen only for this many days after it (then it dies); 0 (the default) keeps every item available always.
    /// </summary>
    public double ItemLifetimeDays { get; init; }

    /// <summary>Random seed: the same options and seed give the same dataset.</summary>
    public int Seed { get; init; } = 7;
}
