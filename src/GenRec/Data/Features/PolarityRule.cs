using System.Globalization;

namespace GenRec.Data.Features;

/// <summary>Maps an action value to positive / negative / neutral by exact values and numeric comparisons (&gt;=4, &lt;=2, &gt;3, &lt;3).</summary>
internal sealed class PolarityRule
{
    private readonly List<(Feedback Polarity, string? Exact, string? Op, double Bound)> _rules = [];
    private readonly Feedback? _otherwise;

    public PolarityRule(ColumnSchema column, Func<string, string, SchemaException> error, string path)
    {
        Add(column.Negative, Feedback.Negative, $"{path}.negative", error);
        Add(column.Positive, Feedback.Positive, $"{path}.positive", error);
        Add(column.Neutral, Feedback.Neutral, $"{path}.neutral", error);
        if (column.Otherwise is not null)
            _otherwise = column.Otherwise.ToLowerInvariant() switch
            {
                "positive" => Feedback.Positive,
                "negative" => Feedback.Negative,
                "neutral" => Feedback.Neutral,
                _ => throw error($"{path}.otherwise", $"'{column.Otherwise}' is not a polarity; expected positive, negative or neutral."),
            };
        if (_rules.Count == 0 && _otherwise is null)
            throw error(path, $"action column '{column.Name}' needs at least one of positive, negative, neutral or otherwise (for example \"positive\": [\">=4\"]).");
    }

    private void Add(List<string>? values, Feedback polarity, string path, Func<string, string, SchemaException> error)
    {
        if (values is null) return;
        foreach (var v in values)
        {
            foreach (var op in new[] { ">=", "<=", ">", "<" })
                if (v.StartsWith(op, StringComparison.Ordinal))
                {
                    if (!double.TryParse(v.AsSpan(op.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out double bound))
                        throw error(path, $"'{v}' compares with '{v[op.Length..]}', which is not a number.");
                    _rules.Add((polarity, null, op, bound));
                    goto next;
                }
            _rules.Add((polarity, v, null, 0));
        next:;
        }
    }

    /// <summary>The polarity of a value, or null when nothing matches and no default is set. Negative rules are tried first.</summary>
    public Feedback? Classify(ReadOnlySpan<char> value)
    {
        bool numeric = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double x);
        foreach (var r in _rules)
        {
            if (r.Exact is not null) { if (value.SequenceEqual(r.Exact)) return r.Polarity; continue; }
            if (!numeric) continue;
            bool hit = r.Op switch { ">=" => x >= r.Bound, "<=" => x <= r.Bound, ">" => x > r.Bound, _ => x < r.Bound };
            if (hit) return r.Polarity;
        }
        return _otherwise;
    }
}
