namespace GenRec.Data;

/// <summary>One evaluation case: the (truncated) history and the held-out next item.</summary>
/// <param name="UserId">Raw user id.</param>
/// <param name="History">Latest items before the target, oldest first (at most the model's max length).</param>
/// <param name="HistoryTimestamps">Their times.</param>
/// <param name="Target">The held-out item.</param>
/// <param name="TargetTimestamp">Its time: the query time for the relative time bias at the last history position.</param>
public sealed record EvalExample(long UserId, long[] History, long[] HistoryTimestamps, long Target, long TargetTimestamp)
{
    /// <summary>Token kinds of the history (0 = item); null when every token is an item.</summary>
    public byte[]? HistoryKinds { get; init; }

    /// <summary>Action ids of the history; null without actions.</summary>
    public int[]? HistoryActions { get; init; }

    /// <summary>The polarity of the user's action on the target (neutral where the data has no actions).</summary>
    public Features.Feedback TargetFeedback { get; init; }

    /// <summary>The mask m_i over the history (used when the window is a training sequence).</summary>
    public bool[]? Supervised { get; init; }

    /// <summary>The item ids in the history (feature tokens left out).</summary>
    public IEnumerable<long> HistoryItems => HistoryKinds is null ? History : History.Where((_, i) => HistoryKinds[i] == 0);
}
