using GenRec.Data.Features;

namespace GenRec.Data;

/// <summary>
/// The items a model knows, by id and by key: the dataset's items (ids 1…n, with their titles) and, after incremental
/// training, the items it added (ids past n, named by the checkpoint's id map only). The model's id map is the
/// authority; the dataset must agree with it on its own ids (<see cref="ItemIds.EnsureMatch"/>).
/// </summary>
public sealed class ItemCatalog
{
    private readonly PreparedDataset _data;
    private readonly IReadOnlyList<string> _keys;
    private readonly Dictionary<string, long> _added = new(StringComparer.Ordinal);

    /// <summary>The items of <paramref name="data"/> followed by the ones a model's id map
    /// (<paramref name="modelKeys"/>, id order) adds.</summary>
    public ItemCatalog(PreparedDataset data, IReadOnlyList<string>? modelKeys = null)
    {
        _data = data;
        _keys = modelKeys ?? data.ItemKeys;
        if (_keys.Count < data.ItemKeys.Count)
            throw new ArgumentException($"the model knows {_keys.Count:N0} items, fewer than {data.Name}'s "
                + $"{data.ItemKeys.Count:N0}; pass the data it was trained on.");
        for (int i = data.ItemKeys.Count; i < _keys.Count; i++) _added[_keys[i]] = i + 1;
        Corpus = Enumerable.Range(1, _keys.Count).Select(i => (long)i).ToArray();
    }

    /// <summary>Items known.</summary>
    public int Count => _keys.Count;

    /// <summary>Items added after the dataset (incremental training).</summary>
    public int Added => _added.Count;

    /// <summary>Every item id, ascending: what retrieval searches.</summary>
    public long[] Corpus { get; }

    /// <summary>The id of the item with key <paramref name="key"/>, or null for an item the model does not know.
    /// </summary>
    public long? Id(string key) => _data.ItemId(key) ?? (_added.TryGetValue(key, out long id) ? id : null);

    /// <summary>The key of item <paramref name="id"/> as the source spells it.</summary>
    public string Key(long id) => id > 0 && id <= _keys.Count ? _keys[(int)id - 1] : _data.ItemKey(id);

    /// <summary>A display title: the dataset's title, or "item KEY" for an added item.</summary>
    public string Describe(long id) => id <= _data.ItemKeys.Count ? _data.Describe(id) : $"item {Key(id)}";
}
