namespace GenRec.Data;

/// <summary>
/// The one token-sequence type: a window of a user's tokens, oldest first (contextual tokens in front, then the latest
/// others), and what follows it. Training reads a window with its mask m_i (<see cref="Supervised"/>); evaluation and
/// serving read a window of history and predict <see cref="Target"/>; ranking reads a window with its labels
/// (<see cref="RankingExample"/>). Every split builds windows with <see cref="LeaveOneOutSplit"/>'s window function.
/// </summary>
/// <param name="UserId">The user's row in the dataset.</param>
/// <param name="History">Token values, oldest first: item ids, or feature value ids where <see cref="HistoryKinds"/> is
/// not 0.</param>
/// <param name="HistoryTimestamps">Their times.</param>
/// <param name="Target">The item after the window (the held-out item), or 0 when there is none (a training window, or a
/// latest history).</param>
/// <param name="TargetTimestamp">Its time: the query time for the relative time bias at the last position.</param>
public sealed record TokenWindow(
    long UserId, long[] History, long[] HistoryTimestamps, long Target, long TargetTimestamp)
{
    /// <summary>Token kinds of the history (0 = item); null when every token is an item.</summary>
    public byte[]? HistoryKinds { get; init; }

    /// <summary>Action ids of the history; null without actions.</summary>
    public int[]? HistoryActions { get; init; }

    /// <summary>The polarity of the user's action on the target (neutral where the data has no actions).</summary>
    public Features.Feedback TargetFeedback { get; init; }

    /// <summary>m_i: whether position i is trained to predict token i + 1; null means every position but the
    /// last.</summary>
    public bool[]? Supervised { get; init; }

    /// <summary>Whether position <paramref name="i"/> gets a next-item loss.</summary>
    public bool IsSupervised(int i) => Supervised is null ? i + 1 < History.Length : Supervised[i];

    /// <summary>The item ids in the history (feature tokens left out).</summary>
    public IEnumerable<long> HistoryItems =>
        HistoryKinds is null ? History : History.Where((_, i) => HistoryKinds[i] == 0);
}
