namespace GenRec.Data;

/// <summary>One user's ranking case: the history window, the candidate items and their labels per task.</summary>
/// <param name="UserKey">The user's key as in the source.</param>
/// <param name="History">Tokens before the candidates (train users: the whole window, candidates included), with kinds and actions.</param>
/// <param name="Candidates">Candidate item ids, oldest first.</param>
/// <param name="Labels">Per candidate, one label per task.</param>
/// <param name="RequestTime">The time the candidates are scored at (the last candidate's).</param>
public sealed record RankingExample(string UserKey, TokenWindow History, long[] Candidates, float[][] Labels, long RequestTime)
{
    /// <summary>Labels of each history token that is an item (null at feature tokens): the causal multi-task loss's targets.</summary>
    public float[]?[] HistoryLabels { get; init; } = [];
}
