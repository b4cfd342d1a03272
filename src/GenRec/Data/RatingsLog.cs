namespace GenRec.Data;

/// <summary>
/// A validated ratings log, as read by <see cref="DatasetReader"/> or made by <see cref="SyntheticData"/>: the events
/// in source order, with per-user chronological views for reports. It is the input of the built-in ratings schema
/// (<see cref="DataSource.FromRatings"/>), not a dataset of its own: training, evaluation and serving read the token
/// sequences that schema builds, so a raw folder and a prepared one share one pipeline and one item-id space.
/// </summary>
public sealed class RatingsLog
{
    /// <summary>Keeps the events in source order and groups them by user, sorted by time (stable: ties keep input
    /// order).</summary>
    /// <param name="name">A short name for messages and reports.</param>
    /// <param name="interactions">The events, in source order.</param>
    /// <param name="itemTitles">Titles by item id, where the source has them.</param>
    /// <param name="itemKeys">The source's key of each item id, where ids were numbered from non-numeric keys.</param>
    /// <param name="userKeys">The source's key of each user id, where ids were numbered from non-numeric keys.</param>
    public RatingsLog(string name, IReadOnlyList<Interaction> interactions, IReadOnlyDictionary<long,
        string>? itemTitles = null,
        IReadOnlyDictionary<long, string>? itemKeys = null, IReadOnlyDictionary<long, string>? userKeys = null)
    {
        Name = name;
        Events = interactions;
        ItemTitles = itemTitles ?? new Dictionary<long, string>();
        _itemKeys = itemKeys;
        _userKeys = userKeys;
        for (int i = 0; i < interactions.Count; i++)
            if (interactions[i].ItemId <= 0)
                throw new ArgumentException($"{name}: item id {interactions[i].ItemId} at event {i}: ids must be "
                    + $"positive (0 is padding).");
        // The pipeline reads Events only; the per-user views serve reports and tests, so they are built on first use.
        _users = new Lazy<IReadOnlyList<UserSequence>>(GroupByUser);
        _corpus = new Lazy<long[]>(() => Events.Select(x => x.ItemId).Distinct().Order().ToArray());
    }

    private readonly Lazy<IReadOnlyList<UserSequence>> _users;
    private readonly Lazy<long[]> _corpus;

    private IReadOnlyList<UserSequence> GroupByUser()
    {
        var byUser = new Dictionary<long, List<int>>();
        for (int i = 0; i < Events.Count; i++)
        {
            if (!byUser.TryGetValue(Events[i].UserId, out var list)) byUser[Events[i].UserId] = list = [];
            list.Add(i);
        }
        var users = new List<UserSequence>(byUser.Count);
        foreach (var (user, idx) in byUser.OrderBy(kv => kv.Key))
        {
            // OrderBy is stable, which is what "ties keep file order" needs.
            var ordered = idx.OrderBy(i => Events[i].Timestamp).ToArray();
            users.Add(new UserSequence(user,
                ordered.Select(i => Events[i].ItemId).ToArray(),
                ordered.Select(i => Events[i].Timestamp).ToArray(),
                ordered.Select(i => Events[i].Rating).ToArray()));
        }
        return users;
    }

    private readonly IReadOnlyDictionary<long, string>? _itemKeys;
    private readonly IReadOnlyDictionary<long, string>? _userKeys;

    /// <summary>A short name for messages and reports (for example ML-1M-U3K).</summary>
    public string Name { get; }

    /// <summary>The events in source order (the order that numbers items in the built-in schema, as in
    /// <c>prepare</c>).</summary>
    public IReadOnlyList<Interaction> Events { get; }

    /// <summary>Users in ascending id order, each with its chronological history.</summary>
    public IReadOnlyList<UserSequence> Users => _users.Value;

    /// <summary>Every distinct item id that occurs, ascending.</summary>
    public long[] Corpus => _corpus.Value;

    /// <summary>Total number of interactions.</summary>
    public int NumEvents => Events.Count;

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

    /// <summary>The item's key as in the source.</summary>
    public string ItemKey(long itemId) =>
        _itemKeys is not null && _itemKeys.TryGetValue(itemId, out var k) ? k
            : itemId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The user's key as in the source.</summary>
    public string UserKey(long userId) =>
        _userKeys is not null && _userKeys.TryGetValue(userId, out var k) ? k
            : userId.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
