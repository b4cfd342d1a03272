using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace GenRec.Data.Features;

/// <summary>
/// Turns a schema's sources into one time-ordered token sequence per user and writes them to a prepared folder
/// (see <see cref="PreparedDataset"/>). Rows are read once, spread over user-hash partitions on disk, and each
/// partition is sorted and emitted on its own, so memory is bounded by a partition, not by the log.
/// <list type="bullet">
/// <item>Main series: item events, with action and feedback polarity.</item>
/// <item>Contextual features (no time): tokens at the start of the sequence.</item>
/// <item>Auxiliary series: compressed (see <see cref="Compress"/>) and merged at their times; at equal times a feature token comes before an item.</item>
/// <item>Dense columns: read and dropped; the model learns such statistics from the sequence itself.</item>
/// <item>Mask m_i: 1 when token i + 1 is an item that is not negative feedback.</item>
/// </list>
/// </summary>
public sealed class SequenceBuilder
{
    private readonly FeatureSchema _schema;
    private readonly string _dataDir;
    private readonly Dictionary<string, int> _users = new(StringComparer.Ordinal);
    private readonly List<string> _userKeys = [];
    private readonly List<bool> _userHasEvents = [];
    private readonly Dictionary<string, int> _items = new(StringComparer.Ordinal);
    private readonly List<string> _itemKeys = [];
    private readonly Dictionary<string, ItemSide> _itemSide = new(StringComparer.Ordinal);
    private readonly List<(string Name, ColumnRole Role, ValueVocabulary Vocab, long Window)> _kinds = [];
    private readonly List<ValueVocabulary> _itemFeatures = [];
    private readonly ValueVocabulary _actions = new("action");
    private readonly List<Feedback> _actionPolarity = [];
    private long _seq;
    private long _rows;
    private long _events;
    private long _negative;
    private long _empty;

    private sealed class ItemSide
    {
        public string? Title;
        public List<int>[] Values = [];
    }


    /// <summary>Prepares to build from <paramref name="dataDir"/>, where the schema's file paths are resolved.</summary>
    public SequenceBuilder(FeatureSchema schema, string dataDir)
    {
        _schema = schema;
        _dataDir = dataDir;
        foreach (var src in schema.Sources)
            foreach (var c in src.Columns)
            {
                if (c.ParsedRole is ColumnRole.Contextual or ColumnRole.Auxiliary && !_kinds.Any(k => k.Name == c.FeatureName))
                    _kinds.Add((c.FeatureName, c.ParsedRole, new ValueVocabulary(c.FeatureName, c.HashBuckets), c.WindowSeconds ?? 0));
                if (c.ParsedRole == ColumnRole.ItemFeature && !_itemFeatures.Any(v => v.Name == c.FeatureName))
                    _itemFeatures.Add(new ValueVocabulary(c.FeatureName, c.HashBuckets));
            }
        if (_kinds.Count > 255) throw new SchemaException("schema", "sources", $"{_kinds.Count} contextual/auxiliary features; at most 255.");
    }

    /// <summary>Receives progress reports.</summary>
    public IProgress<BuildProgress>? Progress { get; init; }

    /// <summary>
    /// What to do with malformed rows (wrong field count, empty user or item id, a timestamp that is not an integer):
    /// by default the build stops at the first with file and line; a skipping policy drops and counts them.
    /// </summary>
    public BadRows BadRows { get; init; } = new();

    /// <summary>Input bytes per on-disk partition (bounds the memory of the sort); 128 MiB by default.</summary>
    public long PartitionBytes { get; init; } = 128L << 20;

    /// <summary>Builds the sequences into <paramref name="outDir"/> (written beside it, then renamed into place) and returns the summary.</summary>
    public PrepareSummary Build(string outDir, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        outDir = Path.GetFullPath(outDir.TrimEnd('/'));
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !File.Exists(Path.Combine(outDir, "manifest.json")))
            throw new IOException($"{outDir}: exists and is not a prepared folder (no manifest.json); refusing to overwrite it.");
        var tmp = $"{outDir}.tmp-{Environment.ProcessId}";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        try
        {
            var summary = BuildInto(tmp, clock, cancel);
            if (Directory.Exists(outDir)) Directory.Delete(outDir, true);
            Directory.Move(tmp, outDir);
            return summary;
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            throw;
        }
    }

    private PrepareSummary BuildInto(string dir, Stopwatch clock, CancellationToken cancel)
    {
        var paths = _schema.Sources.Select(s => Path.Combine(_dataDir, s.File)).ToArray();
        for (int s = 0; s < paths.Length; s++)
            if (!File.Exists(paths[s])) throw new DataLoadException(paths[s], 0, $"file not found (sources[{s}].file in the schema, resolved against {_dataDir}).");
        long userBytes = _schema.Sources.Select((s, i) => s.Kind == SourceKind.ItemFeatures ? 0 : new FileInfo(paths[i]).Length).Sum();
        int partitions = (int)Math.Clamp((userBytes + PartitionBytes - 1) / PartitionBytes, 1, 256);
        var parts = new PartitionWriter[partitions];
        for (int p = 0; p < partitions; p++) parts[p] = new PartitionWriter(Path.Combine(dir, $"part-{p}.tmp"));
        try
        {
            // Item sources first, so item features are known whichever order the schema lists them in.
            foreach (int s in Enumerable.Range(0, paths.Length).Where(i => _schema.Sources[i].Kind == SourceKind.ItemFeatures))
                ReadItemSource(paths[s], _schema.Sources[s], cancel);
            foreach (int s in Enumerable.Range(0, paths.Length).Where(i => _schema.Sources[i].Kind != SourceKind.ItemFeatures))
                ReadUserSource(paths[s], _schema.Sources[s], parts, cancel);
            foreach (var p in parts) p.Finish();
            return Emit(dir, parts, clock, cancel);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    private void ReadItemSource(string path, SourceSchema src, CancellationToken cancel)
    {
        using var r = RowReader.Open(path, src);
        int itemCol = src.Columns.FindIndex(c => c.ParsedRole == ColumnRole.Item);
        int titleCol = src.Columns.FindIndex(c => c.ParsedRole == ColumnRole.Title);
        var phase = $"read {src.File}";
        while (r.Next())
        {
            if ((++_rows & 0xFFFF) == 0) { cancel.ThrowIfCancellationRequested(); Progress?.Report(new(phase, r.Position, r.Length)); }
            var key = r.Field(itemCol);
            if (key.IsEmpty) throw r.Error(itemCol, "empty item id.");
            var side = Side(key.ToString());
            if (titleCol >= 0 && side.Title is null) side.Title = r.Field(titleCol).ToString();
            AddItemFeatures(r, src, side);
        }
        Progress?.Report(new(phase, r.Length, r.Length));
    }

    private ItemSide Side(string key)
    {
        if (!_itemSide.TryGetValue(key, out var side))
        {
            side = new ItemSide { Values = new List<int>[_itemFeatures.Count] };
            for (int g = 0; g < side.Values.Length; g++) side.Values[g] = [];
            _itemSide[key] = side;
        }
        return side;
    }

    private void AddItemFeatures(RowReader r, SourceSchema src, ItemSide side)
    {
        for (int c = 0; c < src.Columns.Count; c++)
        {
            var col = src.Columns[c];
            if (col.ParsedRole != ColumnRole.ItemFeature) continue;
            int g = _itemFeatures.FindIndex(v => v.Name == col.FeatureName);
            ForEachValue(r, c, col, v =>
            {
                int id = _itemFeatures[g].GetOrAdd(v);
                if (!side.Values[g].Contains(id)) side.Values[g].Add(id);
            });
        }
    }

    private delegate void ValueAction(ReadOnlySpan<char> value);

    /// <summary>Splits a field into its values (separator, flag); empty values are counted as unknown and skipped.</summary>
    private void ForEachValue(RowReader r, int c, ColumnSchema col, ValueAction add)
    {
        var field = r.Field(c);
        if (col.Flag)
        {
            if (field is "1" or "true" or "True" or "TRUE" or "yes") add(col.Name);
            else if (field is not ("0" or "false" or "False" or "FALSE" or "no" or "")) throw r.Error(c, $"'{field}' is not a flag; expected 0/1 or true/false.");
            return;
        }
        if (col.Separator is null)
        {
            if (field.IsEmpty) _empty++; else add(field);
            return;
        }
        foreach (var range in field.Split(col.Separator))
        {
            var v = field[range].Trim();
            if (v.IsEmpty) _empty++; else add(v);
        }
    }

    private int UserIndex(ReadOnlySpan<char> key)
    {
        var lookup = _users.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(key, out int u)) return u;
        var s = key.ToString();
        u = _userKeys.Count;
        _users[s] = u;
        _userKeys.Add(s);
        _userHasEvents.Add(false);
        return u;
    }

    private int ItemIndex(ReadOnlySpan<char> key)
    {
        var lookup = _items.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(key, out int i)) return i;
        var s = key.ToString();
        _itemKeys.Add(s);
        i = _itemKeys.Count; // 1-based: 0 is padding
        _items[s] = i;
        return i;
    }

    private void ReadUserSource(string path, SourceSchema src, PartitionWriter[] parts, CancellationToken cancel)
    {
        using var r = RowReader.Open(path, src);
        var cols = src.Columns;
        int userCol = cols.FindIndex(c => c.ParsedRole == ColumnRole.User);
        int itemCol = cols.FindIndex(c => c.ParsedRole == ColumnRole.Item);
        int timeCol = cols.FindIndex(c => c.ParsedRole == ColumnRole.Timestamp);
        var actionCols = Enumerable.Range(0, cols.Count).Where(c => cols[c].ParsedRole == ColumnRole.Action).ToArray();
        var rules = actionCols.Select(c => new PolarityRule(cols[c], (f, p) => new SchemaException("schema", f, p), $"columns[{c}]")).ToArray();
        var featureCols = Enumerable.Range(0, cols.Count).Where(c => cols[c].ParsedRole is ColumnRole.Contextual or ColumnRole.Auxiliary)
            .Select(c => (Column: c, Kind: _kinds.FindIndex(k => k.Name == cols[c].FeatureName))).ToArray();
        bool hasItemFeatures = cols.Any(c => c.ParsedRole == ColumnRole.ItemFeature);
        var joined = new StringBuilder();
        var phase = $"read {src.File}";
        while (NextRow(r))
        {
            if ((++_rows & 0xFFFF) == 0) { cancel.ThrowIfCancellationRequested(); Progress?.Report(new(phase, r.Position, r.Length)); }
            // Everything a row can be refused for is checked before it changes any state.
            var userKey = r.Field(userCol);
            if (userKey.IsEmpty) { BadRows.Report("malformed row", r.Error(userCol, "empty user id.")); continue; }
            long ts = long.MinValue;
            if (timeCol >= 0 && !long.TryParse(r.Field(timeCol), NumberStyles.Integer, CultureInfo.InvariantCulture, out ts))
            {
                BadRows.Report("malformed row", r.Error(timeCol, $"'{r.Field(timeCol)}' is not a timestamp; expected integer seconds since the Unix epoch."));
                continue;
            }
            if (itemCol >= 0 && r.Field(itemCol).IsEmpty) { BadRows.Report("malformed row", r.Error(itemCol, "empty item id.")); continue; }
            int user = UserIndex(userKey);
            var part = parts[(int)((uint)user % (uint)parts.Length)];
            if (itemCol >= 0)
            {
                var itemKey = r.Field(itemCol);
                int item = ItemIndex(itemKey);
                ushort action = 0;
                var feedback = Feedback.Neutral;
                if (actionCols.Length > 0)
                {
                    int id;
                    if (actionCols.Length == 1) id = _actions.GetOrAdd(r.Field(actionCols[0]));
                    else
                    {
                        joined.Clear();
                        foreach (int c in actionCols) joined.Append(joined.Length > 0 ? "/" : "").Append(r.Field(c));
                        id = _actions.GetOrAdd(joined.ToString());
                    }
                    if (id > ushort.MaxValue) throw r.Error(actionCols[0], $"more than {ushort.MaxValue} distinct action values; an action column should be a small set (rating, click, like …).");
                    if (id > _actionPolarity.Count) _actionPolarity.Add(Classify(r, actionCols, rules));
                    action = (ushort)id;
                    feedback = _actionPolarity[id - 1];
                }
                if (feedback == Feedback.Negative) _negative++;
                _events++;
                _userHasEvents[user] = true;
                part.Add(new BuildRecord { User = user, Value = item, Timestamp = ts, Seq = _seq++, Action = action, Feedback = (byte)feedback });
                if (hasItemFeatures) AddItemFeatures(r, src, Side(itemKey.ToString()));
            }
            foreach (var (c, k) in featureCols)
            {
                var (_, role, vocab, _) = _kinds[k];
                long t = role == ColumnRole.Contextual ? long.MinValue : ts;
                ForEachValue(r, c, cols[c], v => part.Add(new BuildRecord { User = user, Value = vocab.GetOrAdd(v), Timestamp = t, Seq = _seq++, Kind = (byte)(k + 1) }));
            }
        }
        Progress?.Report(new(phase, r.Length, r.Length));
    }

    /// <summary>The next row, skipping (and counting) rows with the wrong number of fields when the policy allows.</summary>
    private bool NextRow(RowReader r)
    {
        while (true)
        {
            try { return r.Next(); }
            catch (DataLoadException e) when (BadRows.Skip && !e.Problem.Contains("UTF-8")) { BadRows.Report("malformed row", e); }
        }
    }

    /// <summary>Negative if any action column says negative, else positive if any says positive, else neutral.</summary>
    private static Feedback Classify(RowReader r, int[] actionCols, PolarityRule[] rules)
    {
        var result = Feedback.Neutral;
        for (int i = 0; i < actionCols.Length; i++)
        {
            var v = r.Field(actionCols[i]);
            var p = rules[i].Classify(v) ?? throw r.Error(actionCols[i],
                $"action value '{v}' matches none of positive/negative/neutral; list it, or set \"otherwise\".");
            if (p == Feedback.Negative) return Feedback.Negative;
            if (p == Feedback.Positive) result = Feedback.Positive;
        }
        return result;
    }

    /// <summary>
    /// Window compression of one auxiliary feature's observations, in time order: with a window of w &gt; 0 seconds,
    /// each distinct value is emitted once per window, at its earliest time there (later repeats in the same window
    /// are dropped; a new window emits afresh); with w = 0, a value is emitted only when it differs from the last one emitted.
    /// Returns the indices of the observations kept.
    /// </summary>
    public static List<int> Compress(ReadOnlySpan<long> times, ReadOnlySpan<int> values, long windowSeconds)
    {
        var keep = new List<int>();
        var state = new WindowCompression();
        for (int i = 0; i < times.Length; i++)
            if (state.Admit(times[i], values[i], windowSeconds)) keep.Add(i);
        return keep;
    }



    private PrepareSummary Emit(string dir, PartitionWriter[] parts, Stopwatch clock, CancellationToken cancel)
    {
        var byKind = new long[_kinds.Count + 1];
        long maskedFeature = 0, maskedNegative = 0, compressed = 0, tokens = 0;
        var offsets = new List<long> { 0 };
        using var tokenFile = new FileStream(Path.Combine(dir, "tokens.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        tokenFile.Write(PreparedDataset.TokensMagic);
        using var userFile = new StreamWriter(Path.Combine(dir, "users.txt"), false, new UTF8Encoding(false), 1 << 16);
        var seq = new List<Token>(1024);
        var states = new WindowCompression[_kinds.Count];
        for (int p = 0; p < parts.Length; p++)
        {
            cancel.ThrowIfCancellationRequested();
            Progress?.Report(new("sort and write", p, parts.Length));
            var recs = parts[p].ReadAll();
            recs.AsSpan().Sort(static (a, b) => BuildRecord.Compare(a, b));
            int start = 0;
            while (start < recs.Length)
            {
                int end = start;
                int user = recs[start].User;
                while (end < recs.Length && recs[end].User == user) end++;
                if (_userHasEvents[user])
                {
                    seq.Clear();
                    for (int k = 0; k < states.Length; k++) states[k] = new WindowCompression();
                    long firstTime = long.MinValue;
                    for (int i = start; i < end && firstTime == long.MinValue; i++) firstTime = recs[i].Timestamp;
                    for (int i = start; i < end; i++)
                    {
                        ref var x = ref recs[i];
                        if (x.Kind == 0) seq.Add(new Token(x.Timestamp, x.Value, x.Action, 0, x.Feedback));
                        else if (x.Timestamp == long.MinValue) seq.Add(new Token(firstTime, x.Value, 0, x.Kind, 0));
                        else if (states[x.Kind - 1].Admit(x.Timestamp, x.Value, _kinds[x.Kind - 1].Window)) seq.Add(new Token(x.Timestamp, x.Value, 0, x.Kind, 0));
                        else compressed++;
                    }
                    var span = CollectionsMarshal.AsSpan(seq);
                    for (int i = 0; i < span.Length; i++)
                    {
                        byKind[span[i].Kind]++;
                        if (i + 1 >= span.Length) continue;
                        var next = span[i + 1];
                        if (!next.IsItem) maskedFeature++;
                        else if (next.Feedback == Feedback.Negative) maskedNegative++;
                        else span[i] = span[i] with { Flags = (byte)(span[i].Flags | Token.SupervisedBit) };
                    }
                    tokenFile.Write(MemoryMarshal.AsBytes(span));
                    tokens += span.Length;
                    offsets.Add(tokens);
                    userFile.WriteLine(_userKeys[user]);
                }
                start = end;
            }
            parts[p].Delete();
        }
        tokenFile.Flush(flushToDisk: true);
        userFile.Flush();
        using (var off = new FileStream(Path.Combine(dir, "offsets.bin"), FileMode.Create))
            off.Write(MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(offsets)));

        long itemsWithoutEvents = WriteItems(dir);
        Directory.CreateDirectory(Path.Combine(dir, "vocab"));
        foreach (var v in _kinds.Select(k => k.Vocab).Concat(_itemFeatures).Where(v => v.HashBuckets is null))
            File.WriteAllLines(Path.Combine(dir, "vocab", $"{Sanitize(v.Name)}.txt"), v.Values);
        File.WriteAllText(Path.Combine(dir, "schema.json"), _schema.ToJson());

        var features = new FeatureSpace
        {
            TokenKinds = _kinds.Select(k => new TokenKind(k.Name, k.Role == ColumnRole.Contextual ? "contextual" : "auxiliary", k.Vocab.Size, k.Vocab.HashBuckets is not null)).ToList(),
            Actions = _actions.Values.ToList(),
            ItemFeatures = _itemFeatures.Select((v, g) => new ItemFeature(v.Name, v.Size, Math.Max(1, _itemKeys.Max(key => _itemSide.TryGetValue(key, out var s) ? s.Values[g].Count : 0)))).ToList(),
        };
        var tokensByKind = new Dictionary<string, long> { ["item"] = byKind[0] };
        for (int k = 0; k < _kinds.Count; k++) tokensByKind[_kinds[k].Name] = byKind[k + 1];
        double secs = clock.Elapsed.TotalSeconds;
        var summary = new PrepareSummary
        {
            Name = _schema.Name,
            Created = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Users = offsets.Count - 1,
            Events = _events,
            Items = _itemKeys.Count,
            Tokens = tokens,
            TokensByKind = tokensByKind,
            Features = features,
            DroppedColumns = _schema.Sources.SelectMany(s => s.Columns.Where(c => c.ParsedRole is ColumnRole.Dense or ColumnRole.Ignore)
                .Select(c => $"{s.File}: {c.Name} ({c.Role.ToLowerInvariant()})")).ToList(),
            MaskedBeforeFeatureTokens = maskedFeature,
            MaskedBeforeNegativeFeedback = maskedNegative,
            NegativeEvents = _negative,
            CompressedAway = compressed,
            UsersWithoutEvents = _userHasEvents.Count(h => !h),
            ItemsWithoutEvents = itemsWithoutEvents,
            EmptyValues = _empty,
            Seconds = secs,
            RowsPerSecond = _rows / Math.Max(secs, 1e-9),
            PeakMemoryMiB = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0),
        };
        File.WriteAllText(Path.Combine(dir, "manifest.json"), JsonSerializer.Serialize(summary, FeatureSchema.Json));
        Progress?.Report(new("sort and write", parts.Length, parts.Length));
        return summary;
    }

    /// <summary>items.tsv: dense id, original key, title, then one column per item feature (space-separated value ids).</summary>
    private long WriteItems(string dir)
    {
        using var w = new StreamWriter(Path.Combine(dir, "items.tsv"), false, new UTF8Encoding(false));
        w.WriteLine(string.Join('\t', new[] { "id", "key", "title" }.Concat(_itemFeatures.Select(f => f.Name))));
        for (int i = 0; i < _itemKeys.Count; i++)
        {
            _itemSide.TryGetValue(_itemKeys[i], out var side);
            w.Write(i + 1);
            w.Write('\t');
            w.Write(Clean(_itemKeys[i]));
            w.Write('\t');
            w.Write(Clean(side?.Title ?? ""));
            for (int g = 0; g < _itemFeatures.Count; g++)
            {
                w.Write('\t');
                if (side is not null) w.Write(string.Join(' ', side.Values[g]));
            }
            w.WriteLine();
        }
        return _itemSide.Keys.Count(k => !_items.ContainsKey(k));
    }

    private static string Clean(string s) => s.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');

    /// <summary>The file name a feature's vocabulary is stored under (vocab/NAME.txt, one value per line, id = line number).</summary>
    internal static string Sanitize(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));
}
