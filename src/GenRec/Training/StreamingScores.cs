namespace GenRec.Training;

/// <summary>One policy's next-item metrics over one period's events.</summary>
public sealed record StreamingScores
{
    /// <summary>HR@10 over the period's evaluated events.</summary>
    public double Hr10 { get; init; }

    /// <summary>NDCG@10 over the period's evaluated events.</summary>
    public double Ndcg10 { get; init; }

    /// <summary>HR@10 over the events whose item was first seen after the initial span; null when there were none.
    /// </summary>
    public double? NewItemHr10 { get; init; }

    /// <summary>
    /// Cold start: HR@10 over the events whose item was first seen in this very period (no interaction before the
    /// period), ranked among every item known by the period's end; null when there were none. A model whose items
    /// carry side features (the schema's <c>itemFeature</c> role) can place such an item before it was ever trained
    /// on; an item-id-only model holds an untrained row for it.
    /// </summary>
    public double? ColdHr10 { get; init; }
}
