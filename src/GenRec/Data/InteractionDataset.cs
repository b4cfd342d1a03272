using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>
/// Everything read from a ratings source: per-user chronological sequences, optional item titles,
/// and the item corpus (every item that occurs). Item ids are kept raw, so side information joins later.
/// </summary>
public sealed class InteractionDataset : ISequenceDataset
{
    /// <summary>Groups interactions by user and sorts each user's events by time (stable: ties keep input order).</summary>
    public InteractionDataset(string name, IReadOnlyList<Interaction> interactions, IReadOnlyDictionary<long, string>? itemTitles = null)
    {
        Name = name;
        ItemTitles = itemTitles ?? new Dictionary<long, string>();
        var byUser = new Dictionary<long, List<int>>();
        var corpus = new HashSet<long>();
        for (int i = 0; i < interactions.Count; i++)
        {
            var x = interactions[i];
            if (x.ItemId <= 0) throw new ArgumentException($"{name}: item id {x.ItemId} at event {i}: ids must be positive (0 is padding).");
            if (!byUser.TryGetValue(x.UserId, out var list)) byUser[x.UserId] = list = [];
            list.Add(i);
            corpus.Add(x.ItemId);
        }
        var users = new List<UserSequence>(byUser.Count);
        foreach (var (user, idx) in byUser.OrderBy(kv => kv.Key))
        {
            // OrderBy is stable, which is what "ties keep file order" needs.
            var ordered = idx.OrderBy(i => interactions[i].Timestamp).ToArray();
            users.Add(new UserSequence(user,
                ordered.Select(i => interactions[i].ItemId).ToArray(),
                ordered.Select(i => interactions[i].Timestamp).ToArray(),
                ordered.Select(i => interactions[i].Rating).ToArray()));
        }
        Users = users;
        Corpus = corpus.Order().ToArray();
        NumEvents = interactions.Count;
    }

    /// <summary>A short name for messages and reports (for example ML-1M-U3K).</summary>
    public string Name { get; }

    /// <summary>Users in ascending id order, each with its chronological history.</summary>
    public IReadOnlyList<UserSequence> Users { get; }

    /// <summary>Every distinct item id that occurs, ascending: the retrieval corpus and the negative-sampling pool.</summary>
    public long[] Corpus { get; }

    /// <summary>Total number of interactions.</summary>
    public int NumEvents { get; }

    /// <summary>Size of an embedding table indexed by raw item id (largest id + 1).</summary>
    public long ItemTableSize => Corpus.Length == 0 ? 1 : Corpus[^1] + 1;

    /// <summary>Item titles where the source has them (MovieLens); empty otherwise.</summary>
    public IReadOnlyDictionary<long, string> ItemTitles { get; }

    /// <summary>Finds a user's sequence, or null.</summary>
    public UserSequence? FindUser(long userId)
    {
        int lo = 0, hi = Users.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            long id = Users[mid].UserId;
            if (id == userId) return Users[mid];
            if (id < userId) lo = mid + 1; else hi = mid - 1;
        }
        return null;
    }

    /// <summary>A title for display: the dataset's title, or "item N".</summary>
    public string Describe(long itemId) => ItemTitles.TryGetValue(itemId, out var t) ? t : $"item {itemId}";

    /// <inheritdoc />
    public string ItemKey(long itemId) => itemId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public long? ItemId(string itemKey) =>
        long.TryParse(itemKey, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long id) && Array.BinarySearch(Corpus, id) >= 0 ? id : null;

    /// <summary>Items only: no feature tokens, actions or item features.</summary>
    public FeatureSpace Features { get; } = new();

    /// <inheritdoc />
    public LeaveOneOutSplit Split(int maxLength, EvalSplit split, FeatureOptions options) => LeaveOneOutSplit.Create(this, maxLength, split);

    /// <inheritdoc />
    public EvalExample? Latest(string userKey, int maxLength, FeatureOptions options)
    {
        if (!long.TryParse(userKey, out long id) || FindUser(id) is not { Length: > 0 } u) return null;
        int start = Math.Max(0, u.Length - maxLength);
        return new EvalExample(id, u.Items[start..], u.Timestamps[start..], 0, u.Timestamps[^1]);
    }

    /// <inheritdoc />
    public long[]? ItemFeatureIds(int group) => null;
}
