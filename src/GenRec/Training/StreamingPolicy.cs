namespace GenRec.Training;

/// <summary>How a model follows the events after its initial training (<see cref="StreamingEvaluation"/>).</summary>
public enum StreamingPolicy
{
    /// <summary>Never updated: what a snapshot-trained model does.</summary>
    Frozen,

    /// <summary>One pass over each new period's events, continuing the model and its optimiser.</summary>
    Streaming,

    /// <summary>A new model trained from scratch on every event so far, each period.</summary>
    Retrain,
}
