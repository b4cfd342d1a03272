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
}
