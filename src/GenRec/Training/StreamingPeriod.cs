namespace GenRec.Training;

/// <summary>One period of <see cref="StreamingEvaluation"/>: its events and each policy's metrics on them.</summary>
public sealed record StreamingPeriod
{
    /// <summary>1-based.</summary>
    public int Index { get; init; }

    /// <summary>When the period starts.</summary>
    public DateTimeOffset Start { get; init; }

    /// <summary>Item events in the period.</summary>
    public int Events { get; init; }

    /// <summary>Events whose item was first seen in this very period: no policy can retrieve it yet; not scored.
    /// </summary>
    public int UnknownTargets { get; init; }

    /// <summary>Of <see cref="UnknownTargets"/>, those with history before them: scored apart as cold-start targets
    /// (<see cref="StreamingScores.ColdHr10"/>).</summary>
    public int ColdTargets { get; init; }

    /// <summary>Events scored (the others have an unknown item or no history before them).</summary>
    public int Evaluated { get; init; }

    /// <summary>Scored events whose item was first seen after the initial span.</summary>
    public int NewItemTargets { get; init; }

    /// <summary>Each policy's metrics, evaluated before any policy learnt from the period.</summary>
    public required IReadOnlyDictionary<StreamingPolicy, StreamingScores> Scores { get; init; }

    /// <summary>What retraining from scratch before this period cost (zero for the first: the initial model).</summary>
    public required Cost RetrainCost { get; init; }

    /// <summary>What the streaming update on this period cost.</summary>
    public required Cost StreamCost { get; init; }
}
