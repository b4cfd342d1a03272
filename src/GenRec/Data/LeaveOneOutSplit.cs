namespace GenRec.Data;

/// <summary>
/// Leave-one-out split, as in the paper's tables. Test: train on each user's sequence without its last item
/// (the latest max length + 1 items), evaluate the last item from the latest max length items before it.
/// Validation: the same, one item earlier. Users too short for a part are listed with the reason, never dropped silently.
/// </summary>
public sealed class LeaveOneOutSplit
{
    private LeaveOneOutSplit(List<TrainingSequence> train, List<EvalExample> eval, List<string> notes)
    {
        Train = train;
        Eval = eval;
        Notes = notes;
    }

    /// <summary>Training sequences (users with at least one supervised position).</summary>
    public IReadOnlyList<TrainingSequence> Train { get; }

    /// <summary>Evaluation cases, one per user with a non-empty history.</summary>
    public IReadOnlyList<EvalExample> Eval { get; }

    /// <summary>Human-readable notes about users that could not take part (empty when all could).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Builds the split. <paramref name="maxLength"/> is the model's history length (200 in the paper's ML-1M config).</summary>
    public static LeaveOneOutSplit Create(InteractionDataset data, int maxLength, EvalSplit split = EvalSplit.Test)
    {
        if (maxLength < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max length must be at least 1.");
        int holdout = split == EvalSplit.Test ? 1 : 2;
        var train = new List<TrainingSequence>(data.Users.Count);
        var eval = new List<EvalExample>(data.Users.Count);
        var noTrain = new List<long>();
        var noEval = new List<long>();
        foreach (var u in data.Users)
        {
            int end = u.Length - holdout;
            if (end >= 2)
            {
                int start = Math.Max(0, end - (maxLength + 1));
                train.Add(new TrainingSequence(u.UserId, u.Items[start..end], u.Timestamps[start..end]));
            }
            else noTrain.Add(u.UserId);

            if (end >= 1)
            {
                int start = Math.Max(0, end - maxLength);
                eval.Add(new EvalExample(u.UserId, u.Items[start..end], u.Timestamps[start..end], u.Items[end], u.Timestamps[end]));
            }
            else noEval.Add(u.UserId);
        }
        var notes = new List<string>();
        if (noEval.Count > 0)
            notes.Add($"{noEval.Count} user(s) have {holdout} event(s) or fewer, so nothing is left to predict from; they are not evaluated: {Sample(noEval)}.");
        if (noTrain.Count > noEval.Count)
            notes.Add($"{noTrain.Count} user(s) have fewer than {holdout + 2} events, so their training sequence has no next item to learn; they add no training signal: {Sample(noTrain)}.");
        if (train.Count == 0)
            throw new InvalidOperationException($"{data.Name}: no user has at least {holdout + 2} events, so there is nothing to train on.");
        return new LeaveOneOutSplit(train, eval, notes);
    }

    private static string Sample(List<long> ids) =>
        string.Join(", ", ids.Take(10)) + (ids.Count > 10 ? $", … ({ids.Count - 10} more)" : "");
}
