namespace GenRec.Data.Features;

/// <summary>
/// Which parts of a prepared feature space an experiment uses (the config's <c>features</c> section); everything is
/// on by default, and each switch exists for ablations. Data without such features is unaffected.
/// </summary>
public sealed record FeatureOptions
{
    /// <summary>Add an action embedding to each item token.</summary>
    public bool Actions { get; init; } = true;

    /// <summary>Keep the contextual tokens (demographics) at the start of each sequence.</summary>
    public bool Contextual { get; init; } = true;

    /// <summary>Keep the auxiliary-series tokens merged into the main series.</summary>
    public bool Auxiliary { get; init; } = true;

    /// <summary>Sum item side features (genres) into item embeddings.</summary>
    public bool ItemFeatures { get; init; } = true;

    /// <summary>Give no loss to a position whose next item was negative feedback (m_i = 0).</summary>
    public bool MaskNegative { get; init; } = true;
}
