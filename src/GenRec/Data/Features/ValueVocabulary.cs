namespace GenRec.Data.Features;

/// <summary>
/// Maps a feature's string values to ids 1..n: a vocabulary in order of first appearance, or, for high-cardinality
/// features, a stable hash into a fixed number of buckets (the table size stays bounded whatever the data holds).
/// Id 0 is padding.
/// </summary>
public sealed class ValueVocabulary
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly List<string> _values = [];

    /// <summary>A vocabulary, or a hash into <paramref name="hashBuckets"/> buckets when given.</summary>
    public ValueVocabulary(string name, int? hashBuckets = null)
    {
        if (hashBuckets is < 1) throw new ArgumentOutOfRangeException(nameof(hashBuckets), hashBuckets, "at least one bucket.");
        Name = name;
        HashBuckets = hashBuckets;
        _lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The feature's name.</summary>
    public string Name { get; }

    /// <summary>Buckets when hashed; null for a vocabulary.</summary>
    public int? HashBuckets { get; }

    /// <summary>Rows an embedding table needs (ids 0..n).</summary>
    public int Size => HashBuckets is { } b ? b + 1 : _values.Count + 1;

    /// <summary>Vocabulary values in id order (id i is <c>Values[i − 1]</c>); empty when hashed.</summary>
    public IReadOnlyList<string> Values => _values;

    /// <summary>The id of a value, adding it to the vocabulary if new.</summary>
    public int GetOrAdd(ReadOnlySpan<char> value)
    {
        if (HashBuckets is { } b) return Bucket(value, b);
        if (_lookup.TryGetValue(value, out int id)) return id;
        var s = value.ToString();
        _values.Add(s);
        id = _values.Count;
        _ids[s] = id;
        return id;
    }

    /// <summary>The id of a known value, or 0.</summary>
    public int Find(ReadOnlySpan<char> value) =>
        HashBuckets is { } b ? Bucket(value, b) : _lookup.TryGetValue(value, out int id) ? id : 0;

    /// <summary>1 + FNV-1a (64-bit) of the UTF-16 code units mod <paramref name="buckets"/>: stable across processes and machines.</summary>
    public static int Bucket(ReadOnlySpan<char> value, int buckets)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in value)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return 1 + (int)(h % (ulong)buckets);
    }
}
