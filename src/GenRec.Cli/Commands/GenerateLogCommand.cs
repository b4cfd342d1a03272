using System.CommandLine;
using GenRec.Data.Features;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec generate-log</c>: writes a large synthetic heterogeneous log (and its schema) for benchmarking prepare.</summary>
internal static class GenerateLogCommand
{
    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Folder to write events.csv, users.csv, follows.csv, items.csv and schema.json into.", Required = true };
        var events = new Option<long>("--events") { Description = "Item events to write.", DefaultValueFactory = _ => 20_000_000 };
        var users = new Option<int>("--users") { Description = "Distinct users.", DefaultValueFactory = _ => 1_000_000 };
        var items = new Option<int>("--items") { Description = "Distinct items.", DefaultValueFactory = _ => 200_000 };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("generate-log", "Write a synthetic event log with user, auxiliary and item features (default 20M events, 1M users) and its schema, to benchmark genrec prepare.")
        {
            outDir, events, users, items, seed,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            var dir = r.GetValue(outDir)!;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            long rows = SyntheticLog.Write(dir, r.GetValue(events), r.GetValue(users), r.GetValue(items), r.GetValue(seed),
                new Progress<BuildProgress>(p => Cli.Note($"{p.Phase}: {p.Done:N0}/{p.Total:N0}")));
            Console.WriteLine($"wrote {rows:N0} rows to {dir} in {clock.Elapsed.TotalSeconds:F1}s; next: genrec prepare --schema {Path.Combine(dir, "schema.json")} --data {dir} --out {dir}-prepared");
            return 0;
        }));
        return cmd;
    }
}
