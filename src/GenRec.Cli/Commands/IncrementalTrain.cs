using GenRec.Training;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec train --resume RUN --events SOURCE</c>: one incremental update of a run on its new events.
/// </summary>
internal static class IncrementalTrain
{
    public static int Run(string runDirectory, string dataPath, string events, string? itemsFile,
        IncrementalOptions options, TorchSharp.torch.Device device, bool asJson)
    {
        options.Validate();
        var dataset = Cli.LoadData(dataPath, asJson);
        var (log, source) = EventLogs.Read(events);
        Cli.Note($"{source}: {log.Count:N0} item events");
        List<(string Key, long[][] Features)>? catalog = null;
        if (itemsFile is not null)
        {
            catalog = Data.ItemCatalogFile.Read(itemsFile, dataset, out int unknown);
            Cli.Note($"{itemsFile}: {catalog.Count:N0} items"
                + (unknown > 0 ? $", {unknown:N0} feature values {dataset.Name} never had (left out)" : ""));
        }
        var update = new IncrementalTraining(runDirectory, dataset, device, options)
        {
            Notes = new Progress<string>(Cli.Note),
        };
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler stop = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += stop;
        IncrementalReport report;
        try { report = update.Run(log, source, catalog, cancel.Token); }
        finally { Console.CancelKeyPress -= stop; }
        if (asJson) Cli.PrintJson(report);
        if (report.Interrupted)
        {
            Console.Error.WriteLine($"genrec: stopped inside the update of events {report.From + 1}…; checkpoint "
                + $"written. Continue with: genrec train --resume {runDirectory} --data {dataPath} --events {events}");
            return 130;
        }
        if (asJson) return 0;
        if (report.NothingNew)
        {
            Console.WriteLine($"no events after the watermark ({report.From}) in {source}; the model is up to date"
                + (report.Published is { } p ? $" (published {p})" : "") + ".");
            return 0;
        }
        Console.WriteLine($"trained events {report.From + 1}…{report.To} ({report.Events:N0} events, "
            + $"{report.Targets:N0} targets, {report.Steps} steps) in {report.Seconds:F1}s; watermark {report.To}"
            + (report.Resumed ? " (continued an interrupted update)" : ""));
        Console.WriteLine($"items: {report.Items:N0} known, {report.ItemsAdmitted:N0} admitted, "
            + $"{report.ItemsEvicted:N0} evicted, {report.ItemsWaiting:N0} waiting, {report.ItemsRefused:N0} refused; "
            + $"item table {report.TableRows:N0} rows, {report.TableBytes / 1048576.0:F1} MiB with optimiser state");
        if (report.Published is { } published) Console.WriteLine($"published {published}");
        return 0;
    }
}
