using System.Globalization;
using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>
/// One prediction task of the multi-task ranking head. Tasks come from the schema's actions: numeric actions
/// (ratings) give a binary "positive" task (the action's polarity) and a regression task on the value;
/// categorical actions (page view, cart, favourite, buy) give one binary task per action value.
/// </summary>
/// <param name="Name">For reports: "positive", "value", or the action value.</param>
/// <param name="IsRegression">MSE on the value instead of BCE on a 0/1 label.</param>
public sealed record RankingTask(string Name, bool IsRegression)
{
    /// <summary>Regression: the smallest value the task's labels take (the action scale), where known.</summary>
    public double? Min { get; init; }

    /// <summary>Regression: the largest value the task's labels take, where known.</summary>
    public double? Max { get; init; }

    /// <summary>
    /// The task's prediction from its logit: a probability for a binary task; for regression the value, kept within
    /// the scale the labels were on (a rating model predicting 6.3 on a 1–5 scale says nothing a 5 does not).
    /// </summary>
    public double Predict(double logit) => !IsRegression ? 1 / (1 + Math.Exp(-logit))
        : Math.Clamp(logit, Min ?? double.NegativeInfinity, Max ?? double.PositiveInfinity);

    /// <summary>
    /// The task to order candidates by: <paramref name="name"/> when given (-1 when no task has that name), otherwise
    /// the first binary task (the first task when all are regression).
    /// </summary>
    public static int SortIndex(IReadOnlyList<RankingTask> tasks, string? name = null)
    {
        for (int t = 0; t < tasks.Count; t++)
            if (name is null ? !tasks[t].IsRegression : tasks[t].Name == name) return t;
        return name is null ? 0 : -1;
    }

    /// <summary>The tasks a feature space's actions define (none without actions).</summary>
    public static IReadOnlyList<RankingTask> FromActions(FeatureSpace features)
    {
        var a = features.Actions;
        if (a.Count == 0) return [];
        if (a.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
        {
            var values = a.Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
            return
            [
                new RankingTask("positive", false),
                new RankingTask("value", true) { Min = values.Min(), Max = values.Max() },
            ];
        }
        return a.Select(v => new RankingTask(v, false)).ToList();
    }

    /// <summary>The labels of one item token for each task (0/1 for binary tasks, the value for regression).</summary>
    public static float[] Labels(IReadOnlyList<RankingTask> tasks, FeatureSpace features, in Token item)
    {
        var labels = new float[tasks.Count];
        string? action = item.Action > 0 ? features.Actions[item.Action - 1] : null;
        for (int t = 0; t < tasks.Count; t++)
        {
            var task = tasks[t];
            labels[t] = task.IsRegression ? float.Parse(action ?? "0", CultureInfo.InvariantCulture)
                : task.Name == "positive" && !features.Actions.Contains("positive") ? (item.Feedback == Feedback.Positive ? 1f : 0f)
                : action == task.Name ? 1f : 0f;
        }
        return labels;
    }
}
