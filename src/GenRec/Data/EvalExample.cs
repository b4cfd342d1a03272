namespace GenRec.Data;

/// <summary>One evaluation case: the (truncated) history and the held-out next item.</summary>
/// <param name="UserId">Raw user id.</param>
/// <param name="History">Latest items before the target, oldest first (at most the model's max length).</param>
/// <param name="HistoryTimestamps">Their times.</param>
/// <param name="Target">The held-out item.</param>
/// <param name="TargetTimestamp">Its time: the query time for the relative time bias at the last history position.</param>
public sealed record EvalExample(long UserId, long[] History, long[] HistoryTimestamps, long Target, long TargetTimestamp);
