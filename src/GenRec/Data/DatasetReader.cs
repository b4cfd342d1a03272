using System.Text;

namespace GenRec.Data;

/// <summary>
/// Reads ratings in the layouts people actually have: MovieLens-1M (<c>ratings.dat</c>, <c>::</c>-separated,
/// <c>movies.dat</c> in ISO-8859-1), MovieLens-20M / latest (<c>ratings.csv</c> and <c>movies.csv</c> with headers),
/// MovieLens-100K (<c>u.data</c>, tab-separated, <c>u.item</c> titles) and a generic CSV of
/// <c>user,item,rating,timestamp</c> (the Amazon reviews shape; string ids are numbered 1, 2, … in order of first appearance).
/// </summary>
public static class DatasetReader
{
    private static readonly Encoding Latin1 = Encoding.Latin1;

    /// <summary>Largest item id accepted: the embedding table has one row per id up to the largest, so ids must be dense-ish.</summary>
    public const long MaxItemId = 100_000_000;

    /// <summary>
    /// Reads a dataset folder (format detected from its files) or a single generic ratings CSV. Bad rows (see
    /// <see cref="BadRows"/>) fail the read with file, line and reason, unless <paramref name="badRows"/> skips them.
    /// Rows out of time order are not bad: each user's events are sorted by time.
    /// </summary>
    public static RatingsLog Read(string path, BadRows? badRows = null)
    {
        var b = badRows ?? new BadRows();
        if (File.Exists(path)) return ReadRatingsCsv(path, b);
        if (!Directory.Exists(path)) throw new DataLoadException(path, 0, "no such file or folder; expected a MovieLens folder or a ratings CSV.");
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
        if (File.Exists(Path.Combine(path, "ratings.dat"))) return ReadMovieLens1M(path, name, b);
        if (File.Exists(Path.Combine(path, "u.data"))) return ReadMovieLens100K(path, name, b);
        if (File.Exists(Path.Combine(path, "ratings.csv")))
            return HasMovieLensHeader(Path.Combine(path, "ratings.csv")) ? ReadMovieLensCsv(path, name, b) : ReadRatingsCsv(Path.Combine(path, "ratings.csv"), b, name);
        var csvs = Directory.GetFiles(path, "*.csv");
        if (csvs.Length == 1) return ReadRatingsCsv(csvs[0], b, name);
        throw new DataLoadException(path, 0, "no ratings found; expected ratings.dat (MovieLens-1M), ratings.csv (MovieLens-20M/latest), u.data (MovieLens-100K) or a single user,item,rating,timestamp CSV.");
    }

    /// <summary>MovieLens-1M: <c>UserID::MovieID::Rating::Timestamp</c>, titles from <c>movies.dat</c> if present.</summary>
    public static RatingsLog ReadMovieLens1M(string dir, string? name = null, BadRows? badRows = null)
    {
        var file = Path.Combine(dir, "ratings.dat");
        var events = new EventRows(file, badRows ?? new BadRows());
        foreach (var (line, text) in Lines(file, Encoding.UTF8, "UserID::MovieID::Rating::Timestamp", events.Bad))
            events.Add(line, () =>
            {
                var f = LineFields.Split(file, line, text, "::");
                f.Expect(4, "UserID::MovieID::Rating::Timestamp");
                return new Interaction(f.Long(0, "UserID"), f.PositiveId(1, "MovieID"), f.Float(2, "Rating"), f.Long(3, "Timestamp"));
            });
        var titles = new Dictionary<long, string>();
        var movies = Path.Combine(dir, "movies.dat");
        if (File.Exists(movies))
            foreach (var (line, text) in Lines(movies, Latin1, "MovieID::Title::Genres"))
            {
                var f = LineFields.Split(movies, line, text, "::");
                f.Expect(3, "MovieID::Title::Genres");
                titles[f.PositiveId(0, "MovieID")] = f.Text(1);
            }
        return new RatingsLog(name ?? "ml-1m", events.Finish(), titles);
    }

    /// <summary>MovieLens-100K: <c>user item rating timestamp</c> tab-separated, titles from <c>u.item</c> if present.</summary>
    public static RatingsLog ReadMovieLens100K(string dir, string? name = null, BadRows? badRows = null)
    {
        var file = Path.Combine(dir, "u.data");
        var events = new EventRows(file, badRows ?? new BadRows());
        foreach (var (line, text) in Lines(file, Encoding.UTF8, "user<TAB>item<TAB>rating<TAB>timestamp", events.Bad))
            events.Add(line, () =>
            {
                var f = LineFields.Split(file, line, text, "\t");
                f.Expect(4, "user<TAB>item<TAB>rating<TAB>timestamp");
                return new Interaction(f.Long(0, "user"), f.PositiveId(1, "item"), f.Float(2, "rating"), f.Long(3, "timestamp"));
            });
        var titles = new Dictionary<long, string>();
        var items = Path.Combine(dir, "u.item");
        if (File.Exists(items))
            foreach (var (line, text) in Lines(items, Latin1, "movie id|title|..."))
            {
                var f = LineFields.Split(items, line, text, "|");
                if (f.Count < 2) throw new DataLoadException(items, line, $"found {f.Count} field(s); expected at least movie id|title.");
                titles[f.PositiveId(0, "movie id")] = f.Text(1);
            }
        return new RatingsLog(name ?? "ml-100k", events.Finish(), titles);
    }

    /// <summary>MovieLens-20M / latest: <c>ratings.csv</c> (<c>userId,movieId,rating,timestamp</c> with header) and <c>movies.csv</c>.</summary>
    public static RatingsLog ReadMovieLensCsv(string dir, string? name = null, BadRows? badRows = null)
    {
        var file = Path.Combine(dir, "ratings.csv");
        var events = new EventRows(file, badRows ?? new BadRows());
        bool first = true;
        foreach (var (line, text) in Lines(file, Encoding.UTF8, "userId,movieId,rating,timestamp", events.Bad))
        {
            if (first) { first = false; ExpectHeader(file, text, "userId"); continue; }
            events.Add(line, () =>
            {
                var f = LineFields.Split(file, line, text, ",");
                f.Expect(4, "userId,movieId,rating,timestamp");
                return new Interaction(f.Long(0, "userId"), f.PositiveId(1, "movieId"), f.Float(2, "rating"), f.Long(3, "timestamp"));
            });
        }
        if (events.Count == 0) throw new DataLoadException(file, 0, "has a header but no ratings; expected userId,movieId,rating,timestamp rows.");
        var titles = new Dictionary<long, string>();
        var movies = Path.Combine(dir, "movies.csv");
        if (File.Exists(movies))
        {
            bool head = true;
            foreach (var (line, text) in Lines(movies, Encoding.UTF8, "movieId,title,genres"))
            {
                if (head) { head = false; ExpectHeader(movies, text, "movieId"); continue; }
                var (f, _) = LineFields.SplitCsv(movies, line, text);
                f.Expect(3, "movieId,title,genres");
                titles[f.PositiveId(0, "movieId")] = f.Text(1);
            }
        }
        return new RatingsLog(name ?? "ml-latest", events.Finish(), titles);
    }

    /// <summary>
    /// Generic <c>user,item,rating,timestamp</c> CSV, with or without a header (a first line whose rating and timestamp
    /// are not numbers is taken as the header). Integer ids are kept; if any item id is not a positive integer, items
    /// are numbered 1, 2, … in order of first appearance and keep their raw ids as keys (likewise users).
    /// </summary>
    public static RatingsLog ReadRatingsCsv(string file, BadRows? badRows = null, string? name = null)
    {
        var bad = badRows ?? new BadRows();
        var rows = new List<(string User, string Item, float Rating, long Time, long Line)>();
        bool first = true;
        int[] col = [0, 1, 2, 3];   // the fields holding user, item, rating, timestamp
        foreach (var (line, text) in Lines(file, Encoding.UTF8, "user,item,rating,timestamp", bad))
        {
            try
            {
                var (f, _) = LineFields.SplitCsv(file, line, text);
                if (first)
                {
                    first = false;
                    if (f.Count == 4 && !double.TryParse(f[2], System.Globalization.CultureInfo.InvariantCulture, out _) &&
                        !double.TryParse(f[3], System.Globalization.CultureInfo.InvariantCulture, out _))
                    {
                        col = HeaderColumns(file, [.. Enumerable.Range(0, 4).Select(i => f.Text(i))]);
                        continue;
                    }
                }
                f.Expect(4, "user,item,rating,timestamp");
                if (f[col[0]].Trim().IsEmpty)
                    throw new DataLoadException(file, line, $"field {col[0] + 1} (user) is empty; expected a user id.");
                if (f[col[1]].Trim().IsEmpty)
                    throw new DataLoadException(file, line, $"field {col[1] + 1} (item) is empty; expected an item id.");
                rows.Add((f.Text(col[0]).Trim(), f.Text(col[1]).Trim(), f.Float(col[2], "rating"),
                    f.Long(col[3], "timestamp"), line));
            }
            catch (DataLoadException e) { bad.Report("malformed row", e); }
        }
        if (rows.Count == 0) throw new DataLoadException(file, 0, bad.Count > 0 ? $"has no usable ratings ({bad.Count:N0} bad rows skipped); expected user,item,rating,timestamp rows." : "has no ratings; expected user,item,rating,timestamp rows.");

        bool numericItems = rows.All(r => long.TryParse(r.Item, out long v) && v > 0);
        bool numericUsers = rows.All(r => long.TryParse(r.User, out _));
        var itemIds = new Dictionary<string, long>(StringComparer.Ordinal);
        var userIds = new Dictionary<string, long>(StringComparer.Ordinal);
        var events = new EventRows(file, bad);
        foreach (var r in rows)
        {
            long item = numericItems ? long.Parse(r.Item) : Intern(itemIds, r.Item);
            long user = numericUsers ? long.Parse(r.User) : Intern(userIds, r.User);
            events.Add(r.Line, () => new Interaction(user, item, r.Rating, r.Time));
        }
        return new RatingsLog(name ?? Path.GetFileNameWithoutExtension(file), events.Finish(), null,
            numericItems ? null : itemIds.ToDictionary(kv => kv.Value, kv => kv.Key),
            numericUsers ? null : userIds.ToDictionary(kv => kv.Value, kv => kv.Key));

        static long Intern(Dictionary<string, long> ids, string key)
        {
            if (!ids.TryGetValue(key, out long id)) ids[key] = id = ids.Count + 1;
            return id;
        }
    }

    /// <summary>The names a ratings CSV header may give each column (any case, any order).</summary>
    private static readonly string[][] ColumnNames =
    [
        ["user", "userid", "user_id", "uid"],
        ["item", "itemid", "item_id", "iid", "movie", "movieid", "movie_id"],
        ["rating", "score", "value"],
        ["timestamp", "time", "ts", "unix_timestamp", "unixtime"],
    ];

    /// <summary>
    /// The field of user, item, rating and timestamp from a header's names, so that a file whose header orders them
    /// differently reads right; a header that does not name the four is refused (never read by position).
    /// </summary>
    private static int[] HeaderColumns(string file, string[] header)
    {
        var col = new int[4];
        for (int role = 0; role < 4; role++)
        {
            var names = ColumnNames[role];
            col[role] = Array.FindIndex(header, h => names.Contains(h.Trim().TrimStart('\uFEFF').ToLowerInvariant()));
            if (col[role] < 0 || Array.IndexOf(col, col[role], 0, role) >= 0)
                throw new DataLoadException(file, 1, $"the header '{string.Join(",", header)}' names no {names[0]} "
                    + "column; expected the columns user, item, rating and timestamp, in any order (or no header: "
                    + "user,item,rating,timestamp).");
        }
        return col;
    }

    /// <summary>Whether a ratings.csv starts like MovieLens-20M's (<c>userId,…</c>); otherwise it is a generic ratings CSV (the demo's).</summary>
    private static bool HasMovieLensHeader(string file)
    {
        using var r = new StreamReader(file);
        return (r.ReadLine() ?? "").TrimStart('\uFEFF').StartsWith("userId", StringComparison.OrdinalIgnoreCase);
    }

    private static void ExpectHeader(string file, string text, string firstColumn)
    {
        if (!text.TrimStart('\uFEFF').StartsWith(firstColumn, StringComparison.OrdinalIgnoreCase))
            throw new DataLoadException(file, 1, $"expected a header starting with '{firstColumn}', found '{Truncate(text)}'.");
    }

    private static IEnumerable<(long Line, string Text)> Lines(string file, Encoding encoding, string layout, BadRows? bad = null)
    {
        if (!File.Exists(file)) throw new DataLoadException(file, 0, $"not found; expected lines of {layout}.");
        long n = 0, nonEmpty = 0;
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (encoding.CodePage == Encoding.UTF8.CodePage && !StartsWithUtf16Bom(stream))
        {
            // UTF-8 is decoded line by line and strictly: a byte sequence that is not UTF-8 is a bad row with its
            // line number, never silently replaced by U+FFFD.
            var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
            foreach (var raw in RawLines(stream))
            {
                n++;
                string text;
                try { text = strict.GetString(n == 1 && raw.AsSpan().StartsWith(Utf8Bom) ? raw.AsSpan(3) : raw); }
                catch (DecoderFallbackException)
                {
                    (bad ?? new BadRows()).Report("invalid UTF-8", new DataLoadException(file, n, "is not valid UTF-8; expected UTF-8 text (save the file as UTF-8)."));
                    continue;
                }
                if (text.AsSpan().Trim().IsEmpty) continue;
                nonEmpty++;
                yield return (n, text.TrimEnd('\r'));
            }
        }
        else
        {
            using var reader = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: true);
            string? text;
            while ((text = reader.ReadLine()) is not null)
            {
                n++;
                if (text.Length == 0 || text.AsSpan().Trim().IsEmpty) continue;
                nonEmpty++;
                yield return (n, text);
            }
        }
        if (nonEmpty == 0) throw new DataLoadException(file, 0, $"is empty; expected lines of {layout}.");
    }

    private static readonly byte[] Utf8Bom = [0xEF, 0xBB, 0xBF];

    private static bool StartsWithUtf16Bom(FileStream stream)
    {
        Span<byte> head = stackalloc byte[2];
        int got = stream.Read(head);
        stream.Position = 0;
        return got == 2 && ((head[0] == 0xFF && head[1] == 0xFE) || (head[0] == 0xFE && head[1] == 0xFF));
    }

    /// <summary>The stream's lines as raw bytes, without the '\n'.</summary>
    private static IEnumerable<byte[]> RawLines(Stream stream)
    {
        var buffer = new byte[1 << 16];
        var line = new List<byte>(256);
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            int start = 0;
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                line.AddRange(new ArraySegment<byte>(buffer, start, i - start));
                yield return line.ToArray();
                line.Clear();
                start = i + 1;
            }
            line.AddRange(new ArraySegment<byte>(buffer, start, read - start));
        }
        if (line.Count > 0) yield return line.ToArray();
    }

    /// <summary>
    /// Collects one file's events with their line numbers and checks what a single row cannot show: exact duplicates
    /// (same user, item and time), ids beyond the embedding table, negative times, and users left with one event.
    /// </summary>
    private sealed class EventRows(string file, BadRows bad)
    {
        private readonly List<(Interaction Event, long Line)> _rows = [];
        private readonly Dictionary<(long, long, long), long> _seen = [];

        public BadRows Bad => bad;

        public int Count => _rows.Count;

        public void Add(long line, Func<Interaction> parse)
        {
            Interaction x;
            try { x = parse(); }
            catch (DataLoadException e) { bad.Report("malformed row", e); return; }
            if (x.ItemId > MaxItemId)
            {
                bad.Report("id beyond the embedding table", new DataLoadException(file, line, $"item id {x.ItemId:N0} is above {MaxItemId:N0}; the embedding table needs a row for every id up to the largest, so renumber the items (string ids are numbered automatically)."));
                return;
            }
            if (x.Timestamp < 0)
            {
                bad.Report("negative timestamp", new DataLoadException(file, line, $"timestamp {x.Timestamp} is negative; expected seconds (or milliseconds) since 1970."));
                return;
            }
            if (_seen.TryGetValue((x.UserId, x.ItemId, x.Timestamp), out long first))
            {
                bad.Report("duplicate event", new DataLoadException(file, line, $"duplicates line {first} (user {x.UserId}, item {x.ItemId}, time {x.Timestamp})."));
                return;
            }
            _seen[(x.UserId, x.ItemId, x.Timestamp)] = line;
            _rows.Add((x, line));
        }

        public List<Interaction> Finish()
        {
            var perUser = new Dictionary<long, int>();
            foreach (var (x, _) in _rows) perUser[x.UserId] = perUser.GetValueOrDefault(x.UserId) + 1;
            var kept = new List<Interaction>(_rows.Count);
            foreach (var (x, line) in _rows)
            {
                if (perUser[x.UserId] == 1)
                {
                    bad.Report("user with one event", new DataLoadException(file, line, $"user {x.UserId} has only this event; a sequence model needs at least two (three to train and evaluate)."));
                    continue;
                }
                kept.Add(x);
            }
            if (kept.Count == 0) throw new DataLoadException(file, 0, $"no usable events remain ({bad.Count:N0} bad rows skipped).");
            return kept;
        }
    }

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
