using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>
/// A ranking input sequence and where its predictions are read. Interleaved (the paper's formulation): Φ0, a0, Φ1,
/// a1, … with each action as a token of its own, and the output at item token Φ_i predicts a_i (Φ_i cannot see a_i,
/// which comes after it). Summed (the reference's cheaper variant): actions are added to their items' embeddings,
/// the sequence keeps its length n, and item i is predicted from the output at the token before it.
/// </summary>
/// <param name="Tokens">Token values.</param>
/// <param name="Timestamps">Their times.</param>
/// <param name="Kinds">Token kinds (<see cref="Token.ActionKind"/> for action tokens).</param>
/// <param name="Actions">Per-token action ids for the summed variant; null when interleaved.</param>
/// <param name="ReadAt">Positions whose output predicts an item's actions.</param>
/// <param name="Items">The item predicted at each <paramref name="ReadAt"/> position.</param>
/// <param name="Labels">Its labels per task.</param>
public sealed record RankingSequence(long[] Tokens, long[] Timestamps, byte[] Kinds, int[]? Actions, int[] ReadAt, long[] Items, float[][] Labels)
{
    /// <summary>Builds the sequence of a history (and its per-token labels) in either form.</summary>
    public static RankingSequence From(TokenWindow history, float[]?[] labels, bool interleaved)
    {
        var h = history.History;
        var kinds = history.HistoryKinds ?? new byte[h.Length];
        var actions = history.HistoryActions ?? new int[h.Length];
        var tokens = new List<long>(interleaved ? 2 * h.Length : h.Length);
        var times = new List<long>(tokens.Capacity);
        var kindList = new List<byte>(tokens.Capacity);
        var readAt = new List<int>();
        var items = new List<long>();
        var targets = new List<float[]>();
        for (int i = 0; i < h.Length; i++)
        {
            bool isItem = kinds[i] == 0;
            if (isItem && labels.Length > i && labels[i] is { } y)
            {
                int at = interleaved ? tokens.Count : tokens.Count - 1;
                if (at >= 0) { readAt.Add(at); items.Add(h[i]); targets.Add(y); }
            }
            tokens.Add(h[i]);
            times.Add(history.HistoryTimestamps[i]);
            kindList.Add(kinds[i]);
            if (interleaved && isItem && actions[i] > 0)
            {
                tokens.Add(actions[i]);
                times.Add(history.HistoryTimestamps[i]);
                kindList.Add(Token.ActionKind);
            }
        }
        return new RankingSequence(tokens.ToArray(), times.ToArray(), kindList.ToArray(), interleaved ? null : actions,
            readAt.ToArray(), items.ToArray(), targets.ToArray());
    }

    /// <summary>The sequence as an <see cref="TokenWindow"/> history (for M-FALCON and the summed variant's query).</summary>
    public TokenWindow AsHistory(long requestTime) => new(0, Tokens, Timestamps, 0, requestTime)
    {
        HistoryKinds = Kinds,
        HistoryActions = Actions,
    };
}
