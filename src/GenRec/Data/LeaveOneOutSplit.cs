using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>
/// Leave-one-out split, as in the paper's tables. Test: train on each user's sequence without its last item
/// (the latest max length + 1 items), evaluate the last item from the latest max length items before it.
/// Validation: the same, one item earlier. Users too short for a part are listed with the reason, never dropped silently.
/// </summary>
public sealed class LeaveOneOutSplit
{
    private LeaveOneOutSplit(List<TokenWindow> train, List<TokenWindow> eval, List<string> notes)
    {
        Train = train;
        Eval = eval;
        Notes = notes;
    }

    /// <summary>Training sequences (users with at least one supervised position).</summary>
    public IReadOnlyList<TokenWindow> Train { get; }

    /// <summary>Evaluation cases, one per user with a non-empty history.</summary>
    public IReadOnlyList<TokenWindow> Eval { get; }

    /// <summary>Human-readable notes about users that could not take part (empty when all could).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>
    /// The split over a prepared feature space. The target is the user's last (test) or second-to-last (validation)
    /// item token; the sequence before it keeps the contextual tokens at the front and the latest other tokens after them.
    /// A position is supervised when the next kept token is an item, and, with <see cref="FeatureOptions.MaskNegative"/>,
    /// when that item was not negative feedback.
    /// </summary>
    public static LeaveOneOutSplit Create(PreparedDataset data, int maxLength, EvalSplit split, FeatureOptions options)
    {
        if (maxLength < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max length must be at least 1.");
        int holdout = split == EvalSplit.Test ? 1 : 2;
        var train = new List<TokenWindow>(data.UserCount);
        var eval = new List<TokenWindow>(data.UserCount);
        var noTrain = new List<string>();
        var noEval = new List<string>();
        for (int u = 0; u < data.UserCount; u++)
        {
            var tokens = data.Tokens(u);
            int end = HoldOut(tokens, holdout);
            if (end < 0) { noEval.Add(data.UserKey(u)); noTrain.Add(data.UserKey(u)); continue; }
            var t = Window(data, u, end, maxLength + 1, options, 0, null);
            if (t.Supervised!.Any(x => x)) train.Add(t); else noTrain.Add(data.UserKey(u));
            eval.Add(Window(data, u, end, maxLength, options, tokens[end].Value, tokens[end].Timestamp) with { TargetFeedback = tokens[end].Feedback });
        }
        var notes = new List<string>();
        if (noEval.Count > 0)
            notes.Add($"{noEval.Count} user(s) have no item before their held-out item(s); they are not evaluated: {Sample(noEval)}.");
        if (noTrain.Count > noEval.Count)
            notes.Add($"{noTrain.Count} user(s) have no supervised position before the held-out item(s); they add no training signal: {Sample(noTrain)}.");
        if (train.Count == 0)
            throw new InvalidOperationException($"{data.Name}: no user has a supervised position, so there is nothing to train on.");
        return new LeaveOneOutSplit(train, eval, notes);
    }

    /// <summary>
    /// Where the last <paramref name="items"/> item tokens of a user's sequence begin (everything from there is held
    /// out), or −1 when the user has fewer, or no item before them to learn or predict from. Both splits (this one and
    /// <see cref="RankingSplit"/>) hold out this way.
    /// </summary>
    internal static int HoldOut(ReadOnlySpan<Token> tokens, int items)
    {
        int end = tokens.Length, seen = 0;
        while (end > 0 && seen < items) if (tokens[--end].IsItem) seen++;
        if (seen < items) return -1;
        for (int i = 0; i < end; i++) if (tokens[i].IsItem) return end;
        return -1;
    }

    /// <summary>
    /// The latest window of user <paramref name="user"/>'s tokens before index <paramref name="end"/>, at most
    /// <paramref name="length"/> tokens: kept contextual tokens first, then the latest kept others.
    /// </summary>
    internal static TokenWindow Window(PreparedDataset data, int user, int end, int length, FeatureOptions options, long target, long? targetTime, List<int>? pickedOut = null)
    {
        var tokens = data.Tokens(user);
        var kinds = data.Features.TokenKinds;
        bool Contextual(in Token x) => !x.IsItem && kinds[x.Kind - 1].Role == "contextual";
        bool Kept(in Token x) => x.IsItem || (Contextual(x) ? options.Contextual : options.Auxiliary);
        var picked = new List<int>(Math.Min(length, end));
        int c = 0;
        for (; c < end && Contextual(tokens[c]); c++) if (options.Contextual && picked.Count < length - 1) picked.Add(c);
        int head = picked.Count;
        var tail = new List<int>();
        for (int i = end - 1; i >= c && head + tail.Count < length; i--) if (Kept(tokens[i])) tail.Add(i);
        tail.Reverse();
        picked.AddRange(tail);
        pickedOut?.AddRange(picked);
        int n = picked.Count;
        var values = new long[n];
        var times = new long[n];
        var kindIds = new byte[n];
        var actions = new int[n];
        var supervised = new bool[n];
        bool anyFeature = false;
        bool useActions = options.Actions && data.Features.Actions.Count > 0;
        for (int j = 0; j < n; j++)
        {
            var x = tokens[picked[j]];
            values[j] = x.Value;
            times[j] = x.Timestamp;
            kindIds[j] = x.Kind;
            anyFeature |= x.Kind != 0;
            if (useActions) actions[j] = x.Action;
            if (j + 1 < n)
            {
                var next = tokens[picked[j + 1]];
                supervised[j] = next.IsItem && !(options.MaskNegative && next.Feedback == Feedback.Negative);
            }
        }
        return new TokenWindow(user, values, times, target, targetTime ?? (n > 0 ? times[^1] : 0))
        {
            HistoryKinds = anyFeature ? kindIds : null,
            HistoryActions = useActions ? actions : null,
            Supervised = supervised,
        };
    }

    private static string Sample(List<string> ids) =>
        string.Join(", ", ids.Take(10)) + (ids.Count > 10 ? $", … ({ids.Count - 10} more)" : "");
}
