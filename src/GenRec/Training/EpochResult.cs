using GenRec.Evaluation;

namespace GenRec.Training;

/// <summary>What one epoch did; one JSON line each in the run's <c>metrics.jsonl</c>.</summary>
public sealed record EpochResult
{
    /// <summary>1-based epoch.</summary>
    public int Epoch { get; init; }
    /// <summary>Mean sampled-softmax loss over the epoch's steps.</summary>
    public double TrainLoss { get; init; }
    /// <summary>Training steps.</summary>
    public int Steps { get; init; }
    /// <summary>Wall seconds of training (no evaluation).</summary>
    public double TrainSeconds { get; init; }
    /// <summary>Median seconds per step.</summary>
    public double MedianStepSeconds { get; init; }
    /// <summary>Non-padding tokens per second of training.</summary>
    public double TokensPerSecond { get; init; }
    /// <summary>Metrics, when the epoch was evaluated.</summary>
    public RetrievalMetrics? Metrics { get; init; }
    /// <summary>Wall seconds of evaluation.</summary>
    public double EvalSeconds { get; init; }
    /// <summary>Peak resident memory of the process so far, MiB.</summary>
    public double PeakMemoryMiB { get; init; }
}
