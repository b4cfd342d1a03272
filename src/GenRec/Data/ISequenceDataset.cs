using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>
/// What training, evaluation and serving need from a dataset: the item corpus, the feature space, and leave-one-out
/// examples. Implemented by <see cref="RatingsLog"/> (plain ratings files, items only) and
/// <see cref="PreparedDataset"/> (the unified feature space built by <c>genrec prepare</c>).
/// </summary>
public interface ISequenceDataset
{
    /// <summary>A short name for messages and reports.</summary>
    string Name { get; }

    /// <summary>Every item id that occurs, ascending: the retrieval corpus and the negative-sampling pool.</summary>
    long[] Corpus { get; }

    /// <summary>Rows of the item embedding table (largest id + 1).</summary>
    long ItemTableSize { get; }

    /// <summary>Token kinds, actions and item features (empty for plain ratings).</summary>
    FeatureSpace Features { get; }

    /// <summary>The leave-one-out split, with the feature options applied.</summary>
    LeaveOneOutSplit Split(int maxLength, EvalSplit split, FeatureOptions options);

    /// <summary>A user's latest history (up to <paramref name="maxLength"/> tokens) for recommending the next item, or null for an unknown user. Its target is 0.</summary>
    TokenWindow? Latest(string userKey, int maxLength, FeatureOptions options);

    /// <summary>Item side feature ids of group <paramref name="group"/>, row-major [ItemTableSize, width] (0 = none).</summary>
    long[]? ItemFeatureIds(int group);

    /// <summary>A display title: the item's title, or "item KEY".</summary>
    string Describe(long itemId);

    /// <summary>The item's id as in the source.</summary>
    string ItemKey(long itemId);

    /// <summary>Each item's key as in the source, in id order (id i is <c>ItemKeys[i − 1]</c>): the id map a checkpoint records.</summary>
    IReadOnlyList<string> ItemKeys { get; }

    /// <summary>The model's id of an item given its key as in the source, or null when the dataset has no such item.</summary>
    long? ItemId(string itemKey);
}
