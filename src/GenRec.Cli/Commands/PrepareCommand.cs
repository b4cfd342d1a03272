using System.CommandLine;
using GenRec.Data;
using GenRec.Data.Features;
using Spectre.Console;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec prepare</c>: builds the unified token sequences a schema describes.</summary>
internal static class PrepareCommand
{
    public static Command Create()
    {
        var schema = new Option<string>("--schema") { Description = "Feature-space schema JSON, for example configs/ml-1m/schema.json.", Required = true };
        var data = new Option<string>("--data") { Description = "Folder the schema's file paths are relative to.", Required = true };
        var outDir = new Option<string>("--out") { Description = "Prepared folder to write (replaced if it is an older prepared folder).", Required = true };
        var name = new Option<string?>("--name") { Description = "Dataset name for reports (default: the schema's name), for example ML-1M-U3K." };
        var skipBad = Options.SkipBadRows();
        var json = Options.Json();
        var cmd = new Command("prepare", "Build per-user token sequences (items, actions, contextual and auxiliary feature tokens, masks) from CSV/Parquet sources described by a schema.")
        {
            schema, data, outDir, name, skipBad, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            bool asJson = r.GetValue(json);
            var s = FeatureSchema.Load(r.GetValue(schema)!);
            if (r.GetValue(name) is { Length: > 0 } n) s = s with { Name = n };
            var dir = r.GetValue(data)!;
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"--data {dir}: no such folder.");
            var outPath = r.GetValue(outDir)!;
            // Ctrl+C stops the build; the half-built folder is removed and an earlier prepared folder stays as it was.
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try { return Build(s, dir, outPath, asJson, new BadRows(r.GetValue(skipBad)), cancel.Token); }
            catch (OperationCanceledException) { Console.Error.WriteLine("genrec: prepare cancelled; nothing was written."); return 130; }
            finally { Console.CancelKeyPress -= onCancel; }
        }));
        return cmd;
    }

    private static int Build(FeatureSchema s, string dir, string outPath, bool asJson, BadRows bad, CancellationToken token)
    {
        PrepareSummary summary;
        if (!asJson && Cli.Err.Profile.Capabilities.Interactive)
        {
            summary = null!;
            Cli.Err.Progress().AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    ProgressTask? task = null;
                    var builder = new SequenceBuilder(s, dir)
                    {
                        BadRows = bad,
                        Progress = new Reporter(p =>
                        {
                            if (task is null || task.Description != p.Phase) { task?.StopTask(); task = ctx.AddTask(p.Phase, maxValue: Math.Max(1, p.Total)); }
                            task.Value = p.Done;
                        }),
                    };
                    summary = builder.Build(outPath, token);
                });
        }
        else
        {
            string last = "";
            var builder = new SequenceBuilder(s, dir)
            {
                BadRows = bad,
                Progress = new Reporter(p => { if (p.Phase != last) { last = p.Phase; Cli.Note(p.Phase + " …"); } }),
            };
            summary = builder.Build(outPath, token);
        }
        if (bad.Count > 0)
        {
            Cli.Note($"skipped {bad.Count:N0} bad row(s) (--skip-bad-rows):");
            foreach (var line in bad.Summary()) Cli.Note("  " + line);
        }
        if (asJson) { Cli.PrintJson(summary); return 0; }
        Print(summary, outPath);
        return 0;
    }

    private static void Print(PrepareSummary s, string outPath)
    {
        var t = new Table().AddColumns("", "count");
        t.AddRow("users (sequences)", $"{s.Users:N0}");
        t.AddRow("item events", $"{s.Events:N0}");
        t.AddRow("items (corpus)", $"{s.Items:N0}");
        t.AddRow("tokens", $"{s.Tokens:N0}");
        foreach (var (kind, n) in s.TokensByKind)
        {
            var tk = s.Features.TokenKinds.FirstOrDefault(k => k.Name == kind);
            t.AddRow($"  {Markup.Escape(kind)}{(tk is null ? "" : $" ({tk.Role}, table {tk.Size:N0}{(tk.Hashed ? ", hashed" : "")})")}", $"{n:N0}");
        }
        foreach (var f in s.Features.ItemFeatures) t.AddRow($"item feature {Markup.Escape(f.Name)} (table {f.Size:N0}, up to {f.Width} per item)", "");
        if (s.Features.Actions.Count > 0) t.AddRow($"actions: {Markup.Escape(string.Join(", ", s.Features.Actions.Take(12)))}{(s.Features.Actions.Count > 12 ? ", …" : "")}", $"{s.Features.Actions.Count:N0}");
        t.AddRow("negative-feedback events", $"{s.NegativeEvents:N0}");
        t.AddRow("masked positions: next is a feature token", $"{s.MaskedBeforeFeatureTokens:N0}");
        t.AddRow("masked positions: next is negative feedback", $"{s.MaskedBeforeNegativeFeedback:N0}");
        t.AddRow("auxiliary observations compressed away", $"{s.CompressedAway:N0}");
        t.AddRow("users without events (no sequence)", $"{s.UsersWithoutEvents:N0}");
        t.AddRow("items without events (not in corpus)", $"{s.ItemsWithoutEvents:N0}");
        t.AddRow("empty feature values (no token)", $"{s.EmptyValues:N0}");
        AnsiConsole.Write(t);
        if (s.DroppedColumns.Count > 0) Console.WriteLine($"dropped columns: {string.Join("; ", s.DroppedColumns)}");
        Console.WriteLine($"wrote {outPath} in {s.Seconds:F1}s ({s.RowsPerSecond:N0} rows/s, peak memory {s.PeakMemoryMiB:N0} MiB)");
    }

    private sealed class Reporter(Action<BuildProgress> report) : IProgress<BuildProgress>
    {
        public void Report(BuildProgress value) => report(value);
    }
}
