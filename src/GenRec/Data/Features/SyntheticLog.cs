using System.Globalization;
using System.Text;

namespace GenRec.Data.Features;

/// <summary>
/// Writes a large heterogeneous event log for benchmarking <c>genrec prepare</c>: events in global time order
/// (users interleaved, as a real log is), user demographics, an auxiliary "follows" series, item categories and tags,
/// a dense CTR column to be dropped, and the schema that describes them all.
/// </summary>
public static class SyntheticLog
{
    /// <summary>Writes events.csv, users.csv, follows.csv, items.csv and schema.json into <paramref name="dir"/>; returns the rows written.</summary>
    public static long Write(string dir, long events, int users, int items, int seed = 1, IProgress<BuildProgress>? progress = null)
    {
        if (events < 1 || users < 1 || items < 1) throw new ArgumentException("events, users and items must be positive.");
        Directory.CreateDirectory(dir);
        var rng = new Random(seed);
        long rows = 0;
        string[] actions = ["click", "click", "click", "like", "share", "skip"];
        const long start = 1_600_000_000;
        using (var w = Writer(Path.Combine(dir, "events.csv")))
        {
            w.Write("user,item,action,timestamp,ctr\n");
            for (long e = 0; e < events; e++)
            {
                // Skewed users and items: a square of a uniform draw puts more mass on low ids.
                double a = rng.NextDouble(), b = rng.NextDouble();
                int u = 1 + (int)(a * a * users) % users;
                int i = 1 + (int)(b * b * items) % items;
                w.Write(u); w.Write(','); w.Write(i); w.Write(','); w.Write(actions[rng.Next(actions.Length)]); w.Write(',');
                w.Write(start + e * 3); w.Write(','); w.Write((rng.Next(1000) / 1000.0).ToString("0.###", CultureInfo.InvariantCulture)); w.Write('\n');
                if ((e & 0xFFFFF) == 0) progress?.Report(new("write events.csv", e, events));
            }
            rows += events;
        }
        using (var w = Writer(Path.Combine(dir, "users.csv")))
        {
            w.Write("user,gender,age,city\n");
            for (int u = 1; u <= users; u++)
            {
                w.Write(u); w.Write(','); w.Write(rng.Next(2) == 0 ? 'F' : 'M'); w.Write(','); w.Write(18 + 7 * rng.Next(7)); w.Write(",c"); w.Write(rng.Next(50_000)); w.Write('\n');
            }
            rows += users;
        }
        long follows = events / 10;
        using (var w = Writer(Path.Combine(dir, "follows.csv")))
        {
            w.Write("user,creator,timestamp\n");
            for (long f = 0; f < follows; f++)
            {
                // Each user re-observes a few favourite creators, so window compression has repeats to remove.
                int u = 1 + rng.Next(users);
                w.Write(u); w.Write(",cr"); w.Write((u * 7919L + rng.Next(3)) % 100_000); w.Write(','); w.Write(start + f * 30); w.Write('\n');
            }
            rows += follows;
        }
        using (var w = Writer(Path.Combine(dir, "items.csv")))
        {
            w.Write("item,category,tags\n");
            for (int i = 1; i <= items; i++)
            {
                w.Write(i); w.Write(",cat"); w.Write(rng.Next(200)); w.Write(",t"); w.Write(rng.Next(1000)); w.Write("|t"); w.Write(rng.Next(1000)); w.Write('\n');
            }
            rows += items;
        }
        File.WriteAllText(Path.Combine(dir, "schema.json"), SchemaJson);
        return rows;
    }

    private static StreamWriter Writer(string path) => new(path, false, new UTF8Encoding(false), 1 << 20);

    /// <summary>The schema of the generated log.</summary>
    public const string SchemaJson = """
    {
      "name": "synthetic-log",
      "sources": [
        { "file": "events.csv", "header": true, "columns": [
          { "name": "user", "role": "user" },
          { "name": "item", "role": "item" },
          { "name": "action", "role": "action", "positive": ["like", "share"], "neutral": ["click"], "negative": ["skip"] },
          { "name": "timestamp", "role": "timestamp" },
          { "name": "ctr", "role": "dense" } ] },
        { "file": "users.csv", "header": true, "columns": [
          { "name": "user", "role": "user" },
          { "name": "gender", "role": "contextual" },
          { "name": "age", "role": "contextual" },
          { "name": "city", "role": "contextual", "hashBuckets": 10000 } ] },
        { "file": "follows.csv", "header": true, "columns": [
          { "name": "user", "role": "user" },
          { "name": "creator", "role": "auxiliary", "hashBuckets": 20000, "windowSeconds": 86400 },
          { "name": "timestamp", "role": "timestamp" } ] },
        { "file": "items.csv", "header": true, "columns": [
          { "name": "item", "role": "item" },
          { "name": "category", "role": "itemFeature" },
          { "name": "tags", "role": "itemFeature", "separator": "|" } ] }
      ]
    }
    """;
}
