using System.CommandLine;
using GenRec.Data;
using GenRec.Inference;
using Spectre.Console;

namespace GenRec.Cli.Commands;

/// <summary>
/// <c>genrec rank</c>: scores a user's candidates with a ranking checkpoint and prints them best first, with the
/// probability of every binary task and the prediction of every regression task. Candidates come from a file of
/// item keys or from a retrieval checkpoint's top N (retrieval then ranking, the two-stage pipeline).
/// </summary>
internal static class RankCommand
{
    public static Command Create()
    {
        var ckpt = new Option<string>("--checkpoint") { Description = "A ranking checkpoint written by genrec rank-train --out.", Required = true };
        var data = new Option<string>("--data") { Description = "The data the ranker was trained on (histories, item keys, titles): a prepared folder, or ratings.", Required = true };
        var user = new Option<string>("--user") { Description = "User id as in the dataset.", Required = true };
        var candidates = new Option<string?>("--candidates") { Description = "A text file of candidate item ids as in the dataset, one per line (# starts a comment)." };
        var top = new Option<int?>("--top-from-retrieval") { Description = "Rank the top N items of a retrieval model instead (needs --retrieval)." };
        var retrieval = new Option<string?>("--retrieval") { Description = "The retrieval checkpoint (genrec train) for --top-from-retrieval." };
        var sortBy = new Option<string?>("--sort-by") { Description = "Task to order by (default: the first binary task)." };
        var k = new Option<int?>("--k") { Description = "Print only the best K (default: all candidates)." };
        var skipBad = Options.SkipBadRows();
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("rank", "Rank candidate items for a user: per-task scores from a ranking checkpoint, candidates from a file or from retrieval (M-FALCON for interleaved models).")
        {
            ckpt, data, skipBad, user, candidates, top, retrieval, sortBy, k, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            bool asJson = r.GetValue(json);
            string? file = r.GetValue(candidates);
            int? topN = r.GetValue(top);
            if ((file is null) == (topN is null)) throw new ArgumentException("give exactly one of --candidates FILE and --top-from-retrieval N.");
            if (topN is < 1) throw new ArgumentException($"--top-from-retrieval {topN}: expected a positive number.");
            if (topN is not null && r.GetValue(retrieval) is null) throw new ArgumentException("--top-from-retrieval needs --retrieval CHECKPOINT (a model written by genrec train).");
            if (r.GetValue(k) is < 1) throw new ArgumentException($"--k {r.GetValue(k)}: expected a positive number.");
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            using var dataset = Cli.LoadData(r.GetValue(data)!, asJson, r.GetValue(skipBad));
            using var pipeline = RecommendationPipeline.Load(dataset, topN is null ? null : r.GetValue(retrieval), r.GetValue(ckpt)!, dev);
            string id = r.GetValue(user)!;
            var rc = pipeline.RankingInfo!.Config.Ranking;
            var history = dataset.Latest(id, pipeline.RankingWindow, pipeline.RankingFeatures) ?? throw new ArgumentException($"--user {id}: no such user in {dataset.Name}.");

            IReadOnlyList<(long Item, float Score)> picked;
            if (file is not null) picked = CandidateFile.Read(file, dataset).Select(i => (i, float.NaN)).ToList();
            else
            {
                var latest = dataset.Latest(id, pipeline.RetrievalWindow, pipeline.RetrievalFeatures)!;
                picked = pipeline.Retrieve(latest, topN!.Value, latest.HistoryItems.ToHashSet());
            }
            string? by = r.GetValue(sortBy);
            int sortTask = pipeline.SortTask(by);
            var tasks = pipeline.Tasks;
            if (sortTask < 0) throw new ArgumentException($"--sort-by {by}: the model's tasks are {string.Join(", ", tasks.Select(t => t.Name))}.");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var ranked = pipeline.Rank(history, picked.Select(p => p.Item).ToArray(), sortTask);
            double ms = clock.Elapsed.TotalMilliseconds;
            double Score(int c, int t) => ranked[c].Scores[t];
            var order = Enumerable.Range(0, ranked.Count).Take(r.GetValue(k) ?? ranked.Count).ToList();
            if (asJson)
            {
                Cli.PrintJson(new
                {
                    user = id,
                    variant = rc.Variant,
                    sortedBy = tasks[sortTask].Name,
                    milliseconds = ms,
                    ranked = order.Select((c, n) => new
                    {
                        rank = n + 1,
                        item = dataset.ItemKey(picked[ranked[c].Given].Item),
                        title = dataset.Describe(picked[ranked[c].Given].Item),
                        retrievalScore = float.IsNaN(picked[ranked[c].Given].Score) ? (float?)null : picked[ranked[c].Given].Score,
                        scores = Enumerable.Range(0, tasks.Count).ToDictionary(t => tasks[t].Name, t => Score(c, t)),
                    }),
                });
                return 0;
            }
            Console.WriteLine($"user {id}: {history.HistoryItems.Count()} history items; {picked.Count} candidates ranked by {tasks[sortTask].Name} ({rc.Variant}, {ms:F1} ms)");
            var table = new Spectre.Console.Table().AddColumns("#", "item", "title");
            if (topN is not null) table.AddColumn("retrieval");
            foreach (var t in tasks) table.AddColumn(Spectre.Console.Markup.Escape(t.IsRegression ? t.Name + " (pred.)" : "p(" + t.Name + ")"));
            int rank = 1;
            foreach (int c in order)
            {
                var row = new List<string> { $"{rank++}", Spectre.Console.Markup.Escape(dataset.ItemKey(picked[ranked[c].Given].Item)), Spectre.Console.Markup.Escape(dataset.Describe(picked[ranked[c].Given].Item)) };
                if (topN is not null) row.Add($"{picked[ranked[c].Given].Score:F3}");
                row.AddRange(Enumerable.Range(0, tasks.Count).Select(t => Score(c, t).ToString("F3", System.Globalization.CultureInfo.InvariantCulture)));
                table.AddRow(row.ToArray());
            }
            Spectre.Console.AnsiConsole.Write(table);
            return 0;
        }));
        return cmd;
    }
}
