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

    /// <summary>Reads a dataset folder (format detected from its files) or a single generic ratings CSV.</summary>
    public static InteractionDataset Read(string path)
    {
        if (File.Exists(path)) return ReadRatingsCsv(path);
        if (!Directory.Exists(path)) throw new DataLoadException(path, 0, "no such file or folder; expected a MovieLens folder or a ratings CSV.");
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
        if (File.Exists(Path.Combine(path, "ratings.dat"))) return ReadMovieLens1M(path, name);
        if (File.Exists(Path.Combine(path, "u.data"))) return ReadMovieLens100K(path, name);
        if (File.Exists(Path.Combine(path, "ratings.csv"))) return ReadMovieLensCsv(path, name);
        var csvs = Directory.GetFiles(path, "*.csv");
        if (csvs.Length == 1) return ReadRatingsCsv(csvs[0]);
        throw new DataLoadException(path, 0, "no ratings found; expected ratings.dat (MovieLens-1M), ratings.csv (MovieLens-20M/latest), u.data (MovieLens-100K) or a single user,item,rating,timestamp CSV.");
    }

    /// <summary>MovieLens-1M: <c>UserID::MovieID::Rating::Timestamp</c>, titles from <c>movies.dat</c> if present.</summary>
    public static InteractionDataset ReadMovieLens1M(string dir, string? name = null)
    {
        var file = Path.Combine(dir, "ratings.dat");
        var events = new List<Interaction>();
        foreach (var (line, text) in Lines(file, Encoding.UTF8, "UserID::MovieID::Rating::Timestamp"))
        {
            var f = LineFields.Split(file, line, text, "::");
            f.Expect(4, "UserID::MovieID::Rating::Timestamp");
            events.Add(new Interaction(f.Long(0, "UserID"), f.PositiveId(1, "MovieID"), f.Float(2, "Rating"), f.Long(3, "Timestamp")));
        }
        var titles = new Dictionary<long, string>();
        var movies = Path.Combine(dir, "movies.dat");
        if (File.Exists(movies))
            foreach (var (line, text) in Lines(movies, Latin1, "MovieID::Title::Genres"))
            {
                var f = LineFields.Split(movies, line, text, "::");
                f.Expect(3, "MovieID::Title::Genres");
                titles[f.PositiveId(0, "MovieID")] = f.Text(1);
            }
        return new InteractionDataset(name ?? "ml-1m", events, titles);
    }

    /// <summary>MovieLens-100K: <c>user item rating timestamp</c> tab-separated, titles from <c>u.item</c> if present.</summary>
    public static InteractionDataset ReadMovieLens100K(string dir, string? name = null)
    {
        var file = Path.Combine(dir, "u.data");
        var events = new List<Interaction>();
        foreach (var (line, text) in Lines(file, Encoding.UTF8, "user<TAB>item<TAB>rating<TAB>timestamp"))
        {
            var f = LineFields.Split(file, line, text, "\t");
            f.Expect(4, "user<TAB>item<TAB>rating<TAB>timestamp");
            events.Add(new Interaction(f.Long(0, "user"), f.PositiveId(1, "item"), f.Float(2, "rating"), f.Long(3, "timestamp")));
        }
        var titles = new Dictionary<long, string>();
        var items = Path.Combine(dir, "u.item");
        if (File.Exists(items))
            foreach (var (line, text) in Lines(items, Latin1, "movie id|title|..."))
            {
                var f = LineFields.Split(items, line, text, "|");
                if (f.Count < 2) throw new DataLoadException(items, line, $"found {f.Count} field(s); expected at least movie id|title.");
                titles[f.PositiveId(0, "movie id")] = f.Text(1);
            }
        return new InteractionDataset(name ?? "ml-100k", events, titles);
    }

    /// <summary>MovieLens-20M / latest: <c>ratings.csv</c> (<c>userId,movieId,rating,timestamp</c> with header) and <c>movies.csv</c>.</summary>
    public static InteractionDataset ReadMovieLensCsv(string dir, string? name = null)
    {
        var file = Path.Combine(dir, "ratings.csv");
        var events = new List<Interaction>();
        bool first = true;
        foreach (var (line, text) in Lines(file, Encoding.UTF8, "userId,movieId,rating,timestamp"))
        {
            if (first) { first = false; ExpectHeader(file, text, "userId"); continue; }
            var f = LineFields.Split(file, line, text, ",");
            f.Expect(4, "userId,movieId,rating,timestamp");
            events.Add(new Interaction(f.Long(0, "userId"), f.PositiveId(1, "movieId"), f.Float(2, "rating"), f.Long(3, "timestamp")));
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
        return new InteractionDataset(name ?? "ml-latest", events, titles);
    }

    /// <summary>
    /// Generic <c>user,item,rating,timestamp</c> CSV, with or without a header (a first line whose rating and timestamp
    /// are not numbers is taken as the header). Integer ids are kept; if any item id is not a positive integer, items
    /// are numbered 1, 2, … in order of first appearance and the raw ids become their titles (likewise users).
    /// </summary>
    public static InteractionDataset ReadRatingsCsv(string file)
    {
        var rows = new List<(string User, string Item, float Rating, long Time)>();
        bool first = true;
        foreach (var (line, text) in Lines(file, Encoding.UTF8, "user,item,rating,timestamp"))
        {
            var (f, _) = LineFields.SplitCsv(file, line, text);
            if (first)
            {
                first = false;
                if (f.Count == 4 && !double.TryParse(f[2], System.Globalization.CultureInfo.InvariantCulture, out _) &&
                    !double.TryParse(f[3], System.Globalization.CultureInfo.InvariantCulture, out _)) continue;
            }
            f.Expect(4, "user,item,rating,timestamp");
            if (f[0].Trim().IsEmpty) throw new DataLoadException(file, line, "field 1 (user) is empty; expected a user id.");
            if (f[1].Trim().IsEmpty) throw new DataLoadException(file, line, "field 2 (item) is empty; expected an item id.");
            rows.Add((f.Text(0).Trim(), f.Text(1).Trim(), f.Float(2, "rating"), f.Long(3, "timestamp")));
        }
        if (rows.Count == 0) throw new DataLoadException(file, 0, "has no ratings; expected user,item,rating,timestamp rows.");

        bool numericItems = rows.All(r => long.TryParse(r.Item, out long v) && v > 0);
        bool numericUsers = rows.All(r => long.TryParse(r.User, out _));
        var itemIds = new Dictionary<string, long>(StringComparer.Ordinal);
        var userIds = new Dictionary<string, long>(StringComparer.Ordinal);
        var titles = new Dictionary<long, string>();
        var events = new List<Interaction>(rows.Count);
        foreach (var r in rows)
        {
            long item = numericItems ? long.Parse(r.Item) : Intern(itemIds, r.Item);
            if (!numericItems) titles[item] = r.Item;
            long user = numericUsers ? long.Parse(r.User) : Intern(userIds, r.User);
            events.Add(new Interaction(user, item, r.Rating, r.Time));
        }
        return new InteractionDataset(Path.GetFileNameWithoutExtension(file), events, titles);

        static long Intern(Dictionary<string, long> ids, string key)
        {
            if (!ids.TryGetValue(key, out long id)) ids[key] = id = ids.Count + 1;
            return id;
        }
    }

    private static void ExpectHeader(string file, string text, string firstColumn)
    {
        if (!text.TrimStart('\uFEFF').StartsWith(firstColumn, StringComparison.OrdinalIgnoreCase))
            throw new DataLoadException(file, 1, $"expected a header starting with '{firstColumn}', found '{Truncate(text)}'.");
    }

    private static IEnumerable<(long Line, string Text)> Lines(string file, Encoding encoding, string layout)
    {
        if (!File.Exists(file)) throw new DataLoadException(file, 0, $"not found; expected lines of {layout}.");
        long n = 0, nonEmpty = 0;
        using var reader = new StreamReader(file, encoding, detectEncodingFromByteOrderMarks: true, new FileStreamOptions { BufferSize = 1 << 16 });
        string? text;
        while ((text = reader.ReadLine()) is not null)
        {
            n++;
            if (text.Length == 0 || text.AsSpan().Trim().IsEmpty) continue;
            nonEmpty++;
            yield return (n, text);
        }
        if (nonEmpty == 0) throw new DataLoadException(file, 0, $"is empty; expected lines of {layout}.");
    }

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
