using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Evaluation;
using GenRec.Native;
using Spectre.Console;
using static TorchSharp.torch;

namespace GenRec.Cli;

/// <summary>What every command shares: error reporting, output, device set-up.</summary>
internal static class Cli
{
    /// <summary>Progress and notes go to standard error, so that standard output stays clean for --json.</summary>
    public static readonly IAnsiConsole Err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Runs a command; expected failures print one clear line and exit 1, never a stack trace.</summary>
    public static int Run(Func<int> body)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try { return body(); }
        catch (Exception e) when (e is DataLoadException or GenRec.Data.Features.SchemaException or ArgumentException or FileNotFoundException or InvalidDataException
                                      or InvalidOperationException or NotSupportedException or DirectoryNotFoundException or IOException or GenRec.Training.TrainingDivergedException)
        {
            Console.Error.WriteLine($"genrec: error: {e.Message}");
            return 1;
        }
    }

    /// <summary>
    /// Runs one rank's part of a command started by mpirun (MPI initialised first, finalised after). A rank whose part
    /// fails prints the error with its rank and aborts the whole job (MPI_Abort), rather than finalising while the
    /// other ranks wait for it in a collective: the job stops instead of hanging.
    /// </summary>
    public static int RunRank(Func<int> body)
    {
        GenRec.Native.Mpi.Init();
        int code;
        try { code = body(); }
        catch (Exception e)
        {
            Console.Error.WriteLine($"genrec: error on rank {GenRec.Native.Mpi.Rank} of {GenRec.Native.Mpi.Size}: "
                + e.Message);
            Console.Error.Flush();
            GenRec.Native.Mpi.Abort(1);
            throw;
        }
        GenRec.Native.Mpi.Shutdown();
        return code;
    }

    /// <summary>
    /// Command-line mistakes as one line each, in the user's words: the option, what was given, what is expected,
    /// "did you mean" for a mistyped command; never the whole help (<c>--help</c> shows it).
    /// </summary>
    public static int ParseErrors(System.CommandLine.ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var messages = parsed.Errors.Select(e => e.Message).ToList();
        var unknown = messages.Select(m => System.Text.RegularExpressions.Regex.Match(m,
            "^Unrecognized command or argument '(.*)'")).FirstOrDefault(m => m.Success);
        if (unknown is not null && command.Subcommands.Count > 0)
        {
            var names = command.Subcommands.Select(c => c.Name).ToList();
            var close = Spelling.Closest(unknown.Groups[1].Value, names);
            Console.Error.WriteLine($"genrec: error: unknown command '{unknown.Groups[1].Value}'"
                + (close is null ? "" : $" (did you mean {close}?)") + $"; commands: {string.Join(", ", names)}.");
            return 1;
        }
        foreach (var m in messages)
        {
            var bad = System.Text.RegularExpressions.Regex.Match(m,
                "^Cannot parse argument '(.*)' for option '(.*)' as expected type '(.*)'");
            string line = bad.Success
                ? $"{bad.Groups[2].Value} {bad.Groups[1].Value}: expected {Kind(bad.Groups[3].Value)}."
                : m == "Required command was not provided." && command.Subcommands.Count > 0
                    ? $"'{command.Name}' needs a command: {string.Join(", ", command.Subcommands.Select(c => c.Name))}."
                : m;
            Console.Error.WriteLine($"genrec: error: {line}");
        }
        return 1;

        static string Kind(string type) => type switch
        {
            _ when type.Contains("Int32", StringComparison.Ordinal) || type.Contains("Int64", StringComparison.Ordinal)
                => "a whole number",
            _ when type.Contains("Double", StringComparison.Ordinal)
                || type.Contains("Single", StringComparison.Ordinal) => "a number",
            _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
            _ => "a value of another form",
        };
    }

    public static Device Setup(string device, int threads)
    {
        TorchRuntime.SetThreads(threads);
        return TorchRuntime.ParseDevice(device);
    }

    public static void PrintJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));

    public static void Note(string text) => Console.Error.WriteLine(text);

    /// <summary>Opens a prepared folder (genrec prepare) or reads a ratings dataset.</summary>
    public static PreparedDataset LoadData(string path, bool quiet, bool skipBadRows = false)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        if (GenRec.Data.Features.PreparedDataset.IsPrepared(path))
        {
            var prepared = GenRec.Data.Features.PreparedDataset.Open(path);
            var s = prepared.Summary;
            if (!quiet) Note($"opened prepared {s.Name}: {s.Users:N0} users, {s.Items:N0} items, {s.Events:N0} events, {s.Tokens:N0} tokens "
                + $"({string.Join(", ", s.TokensByKind.Select(kv => $"{kv.Key} {kv.Value:N0}"))}) in {sw.Elapsed.TotalSeconds:F1}s");
            return prepared;
        }
        var bad = new BadRows(skipBadRows);
        var log = DatasetReader.Read(path, bad);
        var data = DataSource.FromRatings(log);
        if (!quiet) Note($"read {log.Name}: {data.UserCount:N0} users, {data.Corpus.Length:N0} items, {log.NumEvents:N0} events, built with the built-in ratings schema in {sw.Elapsed.TotalSeconds:F1}s");
        // Skipped rows are reported even with --json (on standard error): dropping data must never be silent.
        if (bad.Count > 0)
        {
            Note($"skipped {bad.Count:N0} bad row(s) (--skip-bad-rows):");
            foreach (var line in bad.Summary()) Note("  " + line);
        }
        return data;
    }

    /// <summary>Loads a checkpoint and a dataset and checks that the model's item table covers the dataset's item ids.</summary>
    public static (GenRec.Model.Checkpoint Info, GenRec.Model.SequenceEncoder Model, PreparedDataset Data) LoadModelAndData(string checkpoint, string data, Device device, bool quiet)
    {
        var (info, model) = GenRec.Model.Checkpoint.Load(checkpoint, device);
        try
        {
            var dataset = LoadData(data, quiet);
            info.EnsureFits(checkpoint, dataset);
            return (info, model, dataset);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static Table MetricsTable(params (string Name, RetrievalMetrics M)[] rows)
    {
        var t = new Table().AddColumns("model", "HR@10", "NDCG@10", "HR@50", "NDCG@50", "HR@200", "NDCG@200", "MRR");
        foreach (var (name, m) in rows)
            t.AddRow(name, F(m.Hr10), F(m.Ndcg10), F(m.Hr50), F(m.Ndcg50), F(m.Hr200), F(m.Ndcg200), F(m.Mrr));
        return t;
        static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
    }
}
