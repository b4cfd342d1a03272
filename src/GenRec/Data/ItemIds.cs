using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>
/// Whether a model and a dataset (or two models) share one item-id space. A model computes with item ids; only the
/// item keys they stand for mean anything outside it, so every checkpoint records the keys of its ids (in id order)
/// and every pairing is checked here before a single id crosses over: pairing artefacts whose ids mean different
/// items is refused with a message naming both, never computed with.
/// </summary>
public static class ItemIds
{
    /// <summary>
    /// Refuses <paramref name="data"/> for a model (<paramref name="model"/>, trained on <paramref name="trainedOn"/>
    /// with item keys <paramref name="keys"/>) unless each of the dataset's item ids names the same item the model
    /// learned for it. The dataset may hold fewer items than the model (the first ones), never other ones.
    /// </summary>
    public static void EnsureMatch(string model, string trainedOn, IReadOnlyList<string>? keys, PreparedDataset data)
    {
        if (keys is null)
            throw new ArgumentException($"{model}: written by an earlier GenRec that did not record its item ids, "
                + $"so it cannot be checked against {data.Name}; train it again.");
        var have = data.ItemKeys;
        if (have.Count > keys.Count)
            throw new ArgumentException($"{data.Name} has {have.Count:N0} items but {model} was trained on "
                + $"{trainedOn} with {keys.Count:N0}: pass the data it was trained on.");
        int diff = FirstDifference(keys, have);
        if (diff >= 0)
            throw new ArgumentException($"{model} (trained on {trainedOn}) and {data.Name} number items differently: "
                + $"item id {diff + 1} is '{keys[diff]}' in the model and '{have[diff]}' in the data; pass the data "
                + "the model was trained on (or a folder prepared from the same events).");
    }

    /// <summary>Refuses two models whose item ids name different items (a retrieval model and a ranker).</summary>
    public static void EnsureSame(string first, IReadOnlyList<string>? firstKeys, string second,
        IReadOnlyList<string>? secondKeys)
    {
        if (firstKeys is null || secondKeys is null)
            throw new ArgumentException($"{(firstKeys is null ? first : second)}: written by an earlier GenRec "
                + "that did not record its item ids; train it again.");
        int n = Math.Min(firstKeys.Count, secondKeys.Count);
        int diff = FirstDifference(firstKeys.Take(n).ToList(), secondKeys.Take(n).ToList());
        if (diff >= 0)
            throw new ArgumentException($"{first} and {second} number items differently (item id {diff + 1} is "
                + $"'{firstKeys[diff]}' in the first and '{secondKeys[diff]}' in the second): they were trained on "
                + "different data; train both on one dataset.");
    }

    /// <summary>
    /// Refuses <paramref name="data"/> when it lacks the feature tokens, actions or item features the model embeds.
    /// </summary>
    public static void EnsureFeatures(string model, string trainedOn, FeatureSpace? space, FeatureOptions options,
        PreparedDataset data)
    {
        var want = data.Features.Select(options);
        var have = space ?? new FeatureSpace();
        if (want.TokenKinds.Count != have.TokenKinds.Count || want.Actions.Count > have.Actions.Count
            || want.ItemFeatures.Count != have.ItemFeatures.Count)
            throw new ArgumentException($"{data.Name}'s feature space ({want.TokenKinds.Count} token kinds, "
                + $"{want.Actions.Count} actions, {want.ItemFeatures.Count} item features) is not that of {model} "
                + $"({have.TokenKinds.Count}, {have.Actions.Count}, {have.ItemFeatures.Count}): pass the data it "
                + $"was trained on ({trainedOn}).");
    }

    private static int FirstDifference(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        for (int i = 0; i < b.Count; i++)
            if (!string.Equals(a[i], b[i], StringComparison.Ordinal)) return i;
        return -1;
    }
}
