using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Serving.Stores;

namespace GenRec.Serving;

/// <summary>
/// Builds the token sequence the models read from a user's training window and the events stored since: items
/// (with their actions) and feature values are placed by time after the window; a contextual value replaces the
/// user's token of that feature at the front; an auxiliary value becomes a token at its time. Anything the training
/// data never had (an unknown item, feature value) is skipped and reported, never guessed.
/// </summary>
public static class HistoryMerger
{
    /// <summary>The merged history, the latest <paramref name="maxLength"/> tokens (contextual tokens always kept),
    /// with the dataset's items only.</summary>
    public static UserHistory Merge(PreparedDataset data, string? user, IReadOnlyList<StoredEvent> stored,
        int maxLength, FeatureOptions options) => Merge(data, new ItemCatalog(data), user, stored, maxLength, options);

    /// <summary>The merged history, items named through <paramref name="items"/> (the model's id map: the dataset's
    /// items and those incremental training added).</summary>
    public static UserHistory Merge(PreparedDataset data, ItemCatalog items, string? user,
        IReadOnlyList<StoredEvent> stored, int maxLength, FeatureOptions options)
    {
        var kindsOf = data.Features.TokenKinds;
        bool IsContextual(byte kind) => kind is > 0 and < Token.ActionKind && kind <= kindsOf.Count && kindsOf[kind - 1].Role == "contextual";
        var baseline = user is null ? null : data.Latest(user, maxLength, options);
        var ids = new List<long>();
        var times = new List<long>();
        var kinds = new List<byte>();
        var actions = new List<int>();
        if (baseline is not null)
            for (int i = 0; i < baseline.History.Length; i++)
            {
                ids.Add(baseline.History[i]);
                times.Add(baseline.HistoryTimestamps[i]);
                kinds.Add(baseline.HistoryKinds?[i] ?? 0);
                actions.Add(baseline.HistoryActions?[i] ?? 0);
            }
        var unknownItems = new List<string>();
        var unknownFeatures = new List<string>();
        var actionNames = data.Features.Actions;
        foreach (var e in stored.OrderBy(e => e.Timestamp))
        {
            // Stored events come after the training window; one older than its end is placed at the end's time.
            long t = times.Count > 0 ? Math.Max(e.Timestamp, times[^1]) : e.Timestamp;
            foreach (var (name, value) in e.Features ?? new Dictionary<string, string>())
            {
                int k = IndexOf(kindsOf, name);
                if (k < 0) { unknownFeatures.Add($"{name}={value}"); continue; }
                var role = kindsOf[k].Role;
                if ((role == "contextual" && !options.Contextual) || (role == "auxiliary" && !options.Auxiliary)) continue;
                if (data.FeatureValueId(k, value) is not int id) { unknownFeatures.Add($"{name}={value}"); continue; }
                byte kind = (byte)(k + 1);
                if (role == "contextual")
                {
                    int at = kinds.FindIndex(x => x == kind);
                    if (at >= 0) ids[at] = id;
                    else
                    {
                        int front = kinds.TakeWhile(IsContextual).Count();
                        ids.Insert(front, id);
                        times.Insert(front, times.Count > 0 ? times[Math.Min(front, times.Count - 1)] : t);
                        kinds.Insert(front, kind);
                        actions.Insert(front, 0);
                    }
                }
                else
                {
                    ids.Add(id);
                    times.Add(t);
                    kinds.Add(kind);
                    actions.Add(0);
                }
            }
            if (e.Item is null) continue;
            if (items.Id(e.Item) is not long item) { unknownItems.Add(e.Item); continue; }
            int action = e.Action is null ? 0 : IndexOf(actionNames, e.Action) + 1;
            ids.Add(item);
            times.Add(t);
            kinds.Add(0);
            actions.Add(options.Actions ? action : 0);
        }
        int contextual = kinds.TakeWhile(IsContextual).Count();
        int drop = Math.Max(0, ids.Count - maxLength);
        if (drop > 0)
        {
            ids.RemoveRange(contextual, drop);
            times.RemoveRange(contextual, drop);
            kinds.RemoveRange(contextual, drop);
            actions.RemoveRange(contextual, drop);
        }
        var seen = new HashSet<long>();
        for (int i = 0; i < ids.Count; i++) if (kinds[i] == 0) seen.Add(ids[i]);
        if (seen.Count == 0) return new UserHistory(user ?? "", null, seen, unknownItems) { UnknownFeatures = unknownFeatures };
        var tokens = new TokenWindow(0, ids.ToArray(), times.ToArray(), 0, times[^1])
        {
            HistoryKinds = kinds.Any(k => k != 0) ? kinds.ToArray() : null,
            HistoryActions = actions.Any(a => a != 0) ? actions.ToArray() : null,
        };
        return new UserHistory(user ?? "", tokens, seen, unknownItems) { UnknownFeatures = unknownFeatures };
    }

    private static int IndexOf(IReadOnlyList<TokenKind> kinds, string name)
    {
        for (int i = 0; i < kinds.Count; i++) if (kinds[i].Name == name) return i;
        return -1;
    }

    private static int IndexOf(IReadOnlyList<string> values, string value)
    {
        for (int i = 0; i < values.Count; i++) if (values[i] == value) return i;
        return -1;
    }
}
