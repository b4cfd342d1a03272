namespace GenRec.Data;

/// <summary>A training sequence: up to max length + 1 items, every position but the last supervised by the next item.</summary>
/// <param name="UserId">Raw user id.</param>
/// <param name="Items">Item ids, oldest first.</param>
/// <param name="Timestamps">Their times.</param>
public sealed record TrainingSequence(long UserId, long[] Items, long[] Timestamps);
