using System.Text.Json;
using GenRec.Model;

namespace GenRec.Training;

/// <summary>
/// A training run's folder: <c>config.json</c>, <c>checkpoint.ckpt</c>, <c>metrics.jsonl</c> (one JSON line per epoch)
/// and <c>curves.png</c>. Every file is replaced atomically; after a crash, metrics lines beyond the checkpoint's
/// epoch are dropped on resume, so the folder always tells one consistent story.
/// </summary>
internal sealed class RunFolder(string path)
{
    private static readonly JsonSerializerOptions MetricsJson =
        new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The folder.</summary>
    public string Path { get; } = path;

    /// <summary>The run's checkpoint file.</summary>
    public string Checkpoint => System.IO.Path.Combine(Path, "checkpoint.ckpt");

    /// <summary>Creates the folder and writes the config the run was started with.</summary>
    public void Start(ExperimentConfig config)
    {
        Directory.CreateDirectory(Path);
        WriteAtomically(System.IO.Path.Combine(Path, "config.json"), config.ToJson());
    }

    /// <summary>Appends an epoch to metrics.jsonl and redraws curves.png.</summary>
    public void Append(EpochResult result, IReadOnlyList<EpochResult> history, string title)
    {
        File.AppendAllText(System.IO.Path.Combine(Path, "metrics.jsonl"), JsonSerializer.Serialize(result, MetricsJson)
            + "\n");
        TrainingCurves.Save(System.IO.Path.Combine(Path, "curves.png"), history, title);
    }

    /// <summary>The epochs in metrics.jsonl up to <paramref name="epochsDone"/>; later lines (written after the
    /// checkpoint) are removed.</summary>
    public List<EpochResult> KeepEpochsUpTo(int epochsDone)
    {
        var file = System.IO.Path.Combine(Path, "metrics.jsonl");
        if (!File.Exists(file)) return [];
        var kept = File.ReadAllLines(file).Where(l => l.Length > 0)
            .Select(l => (Line: l, Result: JsonSerializer.Deserialize<EpochResult>(l, MetricsJson)!))
            .Where(x => x.Result.Epoch <= epochsDone).ToList();
        WriteAtomically(file, string.Concat(kept.Select(x => x.Line + "\n")));
        return kept.Select(x => x.Result).ToList();
    }

    private static void WriteAtomically(string path, string text)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
