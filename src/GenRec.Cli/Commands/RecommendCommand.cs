using System.CommandLine;
using GenRec.Inference;
using Spectre.Console;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec recommend</c>: top-K items for one user from their whole history.</summary>
internal static class RecommendCommand
{
    public static Command Create()
    {
        var ckpt = Options.Checkpoint();
        var data = Options.Data();
        var user = new Option<string>("--user") { Description = "User id as in the dataset.", Required = true };
        var k = new Option<int>("--k") { Description = "How many items.", DefaultValueFactory = _ => 10 };
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("recommend", "Recommend the top K unseen items for a user (titles where the dataset has them).")
        {
            ckpt, data, user, k, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            bool asJson = r.GetValue(json);
            int topK = r.GetValue(k);
            if (topK < 1) throw new ArgumentException($"--k {topK}: expected a positive number.");
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            using var dataset = Cli.LoadData(r.GetValue(data)!, asJson);
            using var pipeline = RecommendationPipeline.Load(dataset, r.GetValue(ckpt)!, null, dev);
            string id = r.GetValue(user)!;
            var history = dataset.Latest(id, pipeline.RetrievalWindow, pipeline.RetrievalFeatures)
                ?? throw new ArgumentException($"--user {id}: no such user in {dataset.Name}.");
            var items = pipeline.Retrieve(history, topK, history.HistoryItems.ToHashSet());
            Print(pipeline.Items, id, history, items, asJson);
            return 0;
        }));
        return cmd;
    }

    internal static void Print(Data.ItemCatalog dataset, string user, Data.TokenWindow history, IReadOnlyList<(long Item, float Score)> items, bool asJson)
    {
        var recent = history.HistoryItems.TakeLast(5).ToList();
        if (asJson)
        {
            Cli.PrintJson(new
            {
                user,
                recent = recent.Select(i => new { item = dataset.Key(i), title = dataset.Describe(i) }),
                recommendations = items.Select((x, n) => new { rank = n + 1, item = dataset.Key(x.Item), score = x.Score, title = dataset.Describe(x.Item) }),
            });
            return;
        }
        Console.WriteLine($"user {user}: latest {history.History.Length} tokens ({history.HistoryItems.Count()} items); most recent:");
        foreach (var i in recent) Console.WriteLine($"    {dataset.Describe(i)}");
        var t = new Spectre.Console.Table().AddColumns("#", "item", "score", "title");
        int rank = 1;
        foreach (var (item, score) in items) t.AddRow($"{rank++}", dataset.Key(item), $"{score:F3}", Spectre.Console.Markup.Escape(dataset.Describe(item)));
        Spectre.Console.AnsiConsole.Write(t);
    }
}
