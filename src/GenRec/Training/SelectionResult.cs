using GenRec.Evaluation;

namespace GenRec.Training;

/// <summary>
/// What model selection chose (<see cref="Model.TrainingConfig.SelectBy"/>): the epoch with the best validation value,
/// and the test metrics of that epoch's model, computed once. Written to the run folder as <c>selection.json</c>.
/// </summary>
public sealed record SelectionResult
{
    /// <summary>The validation metric that chose the epoch.</summary>
    public required string SelectBy { get; init; }

    /// <summary>The chosen epoch.</summary>
    public required int BestEpoch { get; init; }

    /// <summary>Epochs trained (fewer than configured when the run stopped early).</summary>
    public required int EpochsTrained { get; init; }

    /// <summary>Whether the run stopped before its last epoch for lack of improvement (<c>training.patience</c>).
    /// </summary>
    public required bool StoppedEarly { get; init; }

    /// <summary>The chosen model's metrics on the validation item (what it was chosen by).</summary>
    public required RetrievalMetrics Validation { get; init; }

    /// <summary>The chosen model's metrics on the test item, seen by nothing before this one evaluation.</summary>
    public required RetrievalMetrics Test { get; init; }

    /// <summary>
    /// The value of <paramref name="metric"/> (one of <see cref="Model.TrainingConfig.SelectionMetrics"/>) in
    /// <paramref name="m"/>.
    /// </summary>
    public static double Value(string metric, RetrievalMetrics m) => metric.ToLowerInvariant() switch
    {
        "hr@10" => m.Hr10,
        "ndcg@10" => m.Ndcg10,
        "hr@50" => m.Hr50,
        "ndcg@50" => m.Ndcg50,
        "hr@200" => m.Hr200,
        "ndcg@200" => m.Ndcg200,
        "mrr" => m.Mrr,
        _ => throw new ArgumentException($"'{metric}' is not a selection metric; expected one of "
            + $"{string.Join(", ", Model.TrainingConfig.SelectionMetrics)}."),
    };
}
