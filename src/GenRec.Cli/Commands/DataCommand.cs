using System.CommandLine;
using GenRec.Data.Download;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec data get NAME</c> and <c>genrec data list</c>: public datasets by name.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name")
        {
            Description = "The dataset: ml-1m, ml-100k or ml-20m (genrec data list).",
        };
        var cache = new Option<string?>("--cache")
        {
            Description = "The cache folder (default: $GENREC_DATA, else $XDG_CACHE_HOME/genrec/datasets, else "
                + "~/.cache/genrec/datasets).",
        };
        var get = new Command("get", "Download a dataset from its publisher (resumable, SHA-256 and MD5 checked), "
            + "unpack it into the cache and print the folder to pass as --data.")
        {
            name, cache,
        };
        get.SetAction((r, cancel) => Task.FromResult(Cli.Run(() =>
        {
            var dataset = PublicDatasets.Find(r.GetValue(name)!);
            Cli.Note($"{dataset.Name}: {dataset.Description}");
            Cli.Note($"terms: {dataset.Terms}");
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            var downloader = new DatasetDownloader(http, r.GetValue(cache) ?? DatasetDownloader.DefaultCache());
            int shown = -1;
            var progress = new Progress<(long Done, long? Total)>(p =>
            {
                int pct = p.Total is long t && t > 0 ? (int)(100 * p.Done / t) : -1;
                if (pct / 5 == shown / 5 && pct >= 0) return;
                shown = pct;
                Cli.Note(pct >= 0 ? $"  {p.Done / 1e6:F1} of {p.Total / 1e6:F1} MB ({pct}%)"
                    : $"  {p.Done / 1e6:F1} MB");
            });
            var folder = downloader.GetAsync(dataset, progress, cancel).GetAwaiter().GetResult();
            Console.WriteLine(folder);
            return 0;
        })));
        var list = new Command("list", "List the datasets genrec data get knows, with their terms.");
        list.SetAction(r => Cli.Run(() =>
        {
            foreach (var d in PublicDatasets.All)
                Console.WriteLine($"{d.Name,-8} {d.Description}\n         {d.Url}\n         {d.Terms}");
            return 0;
        }));
        return new Command("data", "Public datasets by name.") { get, list };
    }
}
