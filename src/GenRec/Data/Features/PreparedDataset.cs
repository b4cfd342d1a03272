using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace GenRec.Data.Features;

/// <summary>
/// A prepared folder (written by <see cref="SequenceBuilder"/>, <c>genrec prepare</c>) opened for training:
/// <c>tokens.bin</c> is memory-mapped, so a log larger than RAM is read from disk as pages are touched;
/// <c>offsets.bin</c> gives each user's token range; <c>users.txt</c>, <c>items.tsv</c> and <c>manifest.json</c> the
/// rest.
/// </summary>
public sealed unsafe class PreparedDataset : IDisposable
{
    /// <summary>The first 16 bytes of <c>tokens.bin</c> (records follow, aligned).</summary>
    public static readonly byte[] TokensMagic = "GENREC-TOKENS-1\n"u8.ToArray();

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly long[] _offsets;
    private readonly string[] _userKeys;
    private readonly string[] _itemKeys;
    private Dictionary<string, long>? _itemIndex;
    private Dictionary<string, int>[]? _vocabularies;
    private readonly string[] _titles;
    private readonly long[][] _itemFeatureIds;
    private Dictionary<string, int>? _userIndex;

    private PreparedDataset(string dir)
    {
        Directory = dir;
        var manifestPath = Path.Combine(dir, "manifest.json");
        if (!File.Exists(manifestPath)) throw new DataLoadException(dir, 0, "not a prepared folder (no manifest.json); run genrec prepare first.");
        try { Summary = JsonSerializer.Deserialize<PrepareSummary>(File.ReadAllText(manifestPath), FeatureSchema.Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new DataLoadException(manifestPath, 0, $"unreadable manifest: {e.Message}", e); }
        if (Summary.Version != 1) throw new DataLoadException(manifestPath, 0, $"format version {Summary.Version}; this GenRec reads version 1. Prepare the data again.");

        var offPath = Path.Combine(dir, "offsets.bin");
        var bytes = File.ReadAllBytes(offPath);
        _offsets = MemoryMarshal.Cast<byte, long>(bytes).ToArray();
        if (_offsets.Length != Summary.Users + 1) throw new DataLoadException(offPath, 0, $"{_offsets.Length - 1} users but the manifest says {Summary.Users}; the folder is damaged, prepare it again.");
        for (int u = 0; u < _offsets.Length; u++)
            if ((u == 0 ? _offsets[0] != 0 : _offsets[u] < _offsets[u - 1]) || _offsets[u] > Summary.Tokens)
                throw new DataLoadException(offPath, 0, $"offset {u} is {_offsets[u]}; offsets must rise from 0 to {Summary.Tokens}. The folder is damaged; prepare it again.");
        _userKeys = File.ReadAllLines(Path.Combine(dir, "users.txt"));
        if (_userKeys.Length != Summary.Users) throw new DataLoadException(Path.Combine(dir, "users.txt"), 0, $"{_userKeys.Length} users but the manifest says {Summary.Users}.");

        var tokPath = Path.Combine(dir, "tokens.bin");
        long expected = TokensMagic.Length + Summary.Tokens * sizeof(Token);
        long actual = new FileInfo(tokPath).Length;
        if (actual != expected) throw new DataLoadException(tokPath, 0, $"{actual} bytes; expected {expected} for {Summary.Tokens} tokens. The folder is damaged; prepare it again.");
        if (Summary.Tokens > 0)
        {
            _map = MemoryMappedFile.CreateFromFile(tokPath, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            if (!new ReadOnlySpan<byte>(p, TokensMagic.Length).SequenceEqual(TokensMagic))
                throw new DataLoadException(tokPath, 0, "not a GenRec token file (bad magic).");
            _base = p + TokensMagic.Length;
        }

        var itemLines = File.ReadAllLines(Path.Combine(dir, "items.tsv"));
        int n = itemLines.Length - 1;
        _itemKeys = new string[n + 1];
        _titles = new string[n + 1];
        var groups = Features.ItemFeatures;
        _itemFeatureIds = groups.Select(g => new long[(n + 1) * g.Width]).ToArray();
        for (int i = 1; i <= n; i++)
        {
            var f = itemLines[i].Split('\t');
            if (f.Length != 3 + groups.Count || !int.TryParse(f[0], out int id) || id != i)
                throw new DataLoadException(Path.Combine(dir, "items.tsv"), i + 1, $"expected id {i}, key, title and {groups.Count} feature column(s).");
            _itemKeys[i] = f[1];
            _titles[i] = f[2];
            for (int g = 0; g < groups.Count; g++)
            {
                if (f[3 + g].Length == 0) continue;
                var ids = f[3 + g].Split(' ');
                for (int w = 0; w < ids.Length; w++) _itemFeatureIds[g][i * groups[g].Width + w] = long.Parse(ids[w]);
            }
        }
        Corpus = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
    }

    /// <summary>Opens a prepared folder.</summary>
    public static PreparedDataset Open(string dir) => new(dir);

    /// <summary>
    /// Opens a folder built for this process only (<see cref="DataSource.FromRatings"/>) and removes
    /// <paramref name="workDir"/> at once: everything is read or mapped, and a killed process leaves nothing behind.
    /// Where the platform keeps mapped files from being deleted, the folder goes when the dataset is disposed.
    /// </summary>
    internal static PreparedDataset OpenTemporary(string dir, string workDir)
    {
        var data = new PreparedDataset(dir);
        data.LoadVocabularies();
        try { System.IO.Directory.Delete(workDir, true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { data._ownedDirectory = workDir; }
        return data;
    }

    private string? _ownedDirectory;

    /// <summary>Whether a folder is a prepared one.</summary>
    public static bool IsPrepared(string dir) => System.IO.Directory.Exists(dir) && File.Exists(Path.Combine(dir, "manifest.json"));

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>The manifest: counts and the feature space.</summary>
    public PrepareSummary Summary { get; }

    /// <summary>A short name for messages and reports.</summary>
    public string Name => Summary.Name;

    /// <summary>Every item id that occurs, ascending: the retrieval corpus and the negative-sampling pool.</summary>
    public long[] Corpus { get; }

    /// <summary>Rows of the item embedding table (largest id + 1).</summary>
    public long ItemTableSize => _itemKeys.Length;

    /// <summary>Token kinds, actions and item features (empty for ratings read through the built-in schema).</summary>
    public FeatureSpace Features => Summary.Features;

    /// <summary>Number of users (sequences).</summary>
    public int UserCount => _userKeys.Length;

    /// <summary>A user's key as in the source.</summary>
    public string UserKey(int user) => _userKeys[user];

    /// <summary>A user's tokens, oldest first (contextual tokens first), read from the memory map.</summary>
    public ReadOnlySpan<Token> Tokens(int user)
    {
        long start = _offsets[user], end = _offsets[user + 1];
        return end == start ? [] : new ReadOnlySpan<Token>(_base + start * sizeof(Token), checked((int)(end - start)));
    }

    /// <summary>Item side feature ids of group <paramref name="group"/>, row-major [ItemTableSize, width] (0 =
    /// none).</summary>
    public long[]? ItemFeatureIds(int group) => _itemFeatureIds[group];

    /// <summary>A display title: the item's title, or "item KEY".</summary>
    public string Describe(long itemId) =>
        itemId > 0 && itemId < _titles.Length && _titles[itemId].Length > 0 ? _titles[itemId] : $"item {ItemKey(itemId)}";

    /// <summary>The item's id as in the source.</summary>
    public string ItemKey(long itemId) => itemId > 0 && itemId < _itemKeys.Length ? _itemKeys[itemId] : itemId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The embedding id of a value of token kind <paramref name="kind"/> (index into <c>Features.TokenKinds</c>): its
    /// hash bucket for hashed kinds, its vocabulary id otherwise; null for a value the training data never had.
    /// </summary>
    public int? FeatureValueId(int kind, string value)
    {
        var k = Features.TokenKinds[kind];
        if (k.Hashed) return ValueVocabulary.Bucket(value, k.Size - 1);
        return LoadVocabularies()[kind].TryGetValue(value, out int found) ? found : null;
    }

    /// <summary>
    /// The embedding id of a value of item feature <paramref name="group"/> (index into <c>Features.ItemFeatures</c>):
    /// its vocabulary id, or its hash bucket where the folder keeps no vocabulary for it (hashed features); null for a
    /// value the training data never had.
    /// </summary>
    public int? ItemFeatureValueId(int group, string value)
    {
        var f = Features.ItemFeatures[group];
        var vocabularies = LazyInitializer.EnsureInitialized(ref _itemVocabularies, () => Features.ItemFeatures
            .Select(x => Path.Combine(Directory, "vocab", SequenceBuilder.Sanitize(x.Name) + ".txt"))
            .Select(file => File.Exists(file)
                ? File.ReadLines(file).Select((line, i) => (line, i)).GroupBy(x => x.line, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => g.First().i + 1, StringComparer.Ordinal)
                : null).ToArray());
        if (vocabularies[group] is not { } vocabulary) return ValueVocabulary.Bucket(value, f.Size - 1);
        return vocabulary.TryGetValue(value, out int id) ? id : null;
    }

    private Dictionary<string, int>?[]? _itemVocabularies;

    private Dictionary<string, int>[] LoadVocabularies() =>
        LazyInitializer.EnsureInitialized(ref _vocabularies, () => Features.TokenKinds.Select(t =>
        {
            var file = Path.Combine(Directory, "vocab", SequenceBuilder.Sanitize(t.Name) + ".txt");
            var map = new Dictionary<string, int>(StringComparer.Ordinal);
            if (!t.Hashed && File.Exists(file))
            {
                int id = 0;
                foreach (var line in File.ReadLines(file)) map.TryAdd(line, ++id);
            }
            return map;
        }).ToArray());

    /// <summary>Each item's key as in the source, in id order (id i is <c>ItemKeys[i − 1]</c>): the id map a checkpoint
    /// records.</summary>
    public IReadOnlyList<string> ItemKeys => new ArraySegment<string>(_itemKeys, 1, _itemKeys.Length - 1);

    /// <summary>The model's id of an item given its key as in the source, or null when the dataset has no such
    /// item.</summary>
    public long? ItemId(string itemKey)
    {
        _itemIndex ??= Enumerable.Range(1, _itemKeys.Length - 1).ToDictionary(i => _itemKeys[i], i => (long)i, StringComparer.Ordinal);
        return _itemIndex.TryGetValue(itemKey, out long id) ? id : null;
    }

    /// <summary>The leave-one-out split, with the feature options applied.</summary>
    public LeaveOneOutSplit Split(int maxLength, EvalSplit split, FeatureOptions options) => LeaveOneOutSplit.Create(this, maxLength, split, options);

    /// <summary>The row of the user with key <paramref name="userKey"/>, or null for a user the dataset does not
    /// have.</summary>
    public int? UserRow(string userKey)
    {
        _userIndex ??= Enumerable.Range(0, _userKeys.Length).ToDictionary(i => _userKeys[i], StringComparer.Ordinal);
        return _userIndex.TryGetValue(userKey, out int u) ? u : null;
    }

    /// <summary>A user's latest history (up to <paramref name="maxLength"/> tokens) for recommending the next item, or
    /// null for an unknown user. Its target is 0.</summary>
    public TokenWindow? Latest(string userKey, int maxLength, FeatureOptions options)
    {
        _userIndex ??= Enumerable.Range(0, _userKeys.Length).ToDictionary(i => _userKeys[i], StringComparer.Ordinal);
        if (!_userIndex.TryGetValue(userKey, out int u)) return null;
        return LeaveOneOutSplit.Window(this, u, Tokens(u).Length, maxLength, options, target: 0, targetTime: null);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        if (_ownedDirectory is not null && System.IO.Directory.Exists(_ownedDirectory))
        {
            try { System.IO.Directory.Delete(_ownedDirectory, true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }
}
