using System.Text.Json;
using GenRec.Model;
using TorchSharp;
using TorchSharp.Modules;

namespace GenRec.Training;

/// <summary>
/// A training run's folder: <c>config.json</c>, <c>checkpoint.ckpt</c>, <c>metrics.jsonl</c> (one JSON line per epoch),
/// <c>curves.png</c> and <c>tensorboard/</c> (the same scalars as TensorBoard event files, for
/// <c>tensorboard --logdir</c>); with model selection also <c>best.ckpt</c> and <c>selection.json</c>. Every file
/// is replaced atomically; after a crash, metrics lines beyond the
/// checkpoint's epoch are dropped on resume and the event files rewritten from the rest, so the folder always tells
/// one consistent story.
/// </summary>
internal sealed class RunFolder(string path)
{
    private static readonly JsonSerializerOptions MetricsJson =
        new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The folder.</summary>
    public string Path { get; } = path;

    /// <summary>The run's checkpoint file.</summary>
    public string Checkpoint => System.IO.Path.Combine(Path, "checkpoint.ckpt");

    /// <summary>The model of the epoch chosen on validation so far (<c>training.selectBy</c>), without training state.
    /// </summary>
    public string Best => System.IO.Path.Combine(Path, "best.ckpt");

    /// <summary>Writes what model selection chose and the chosen model's test metrics to <c>selection.json</c>.
    /// </summary>
    public void WriteSelection(SelectionResult selection) =>
        WriteAtomically(System.IO.Path.Combine(Path, "selection.json"),
            JsonSerializer.Serialize(selection, new JsonSerializerOptions(MetricsJson) { WriteIndented = true }));

    private SummaryWriter? _events;
    private double _learningRate;

    /// <summary>The TensorBoard event files' folder.</summary>
    public string TensorBoard => System.IO.Path.Combine(Path, "tensorboard");

    /// <summary>Creates the folder and writes the config the run was started with.</summary>
    public void Start(ExperimentConfig config)
    {
        Directory.CreateDirectory(Path);
        WriteAtomically(System.IO.Path.Combine(Path, "config.json"), config.ToJson());
        _learningRate = config.Training.LearningRate;
    }

    /// <summary>Appends an epoch to metrics.jsonl and the event files, and redraws curves.png.</summary>
    public void Append(EpochResult result, IReadOnlyList<EpochResult> history, string title)
    {
        File.AppendAllText(System.IO.Path.Combine(Path, "metrics.jsonl"), JsonSerializer.Serialize(result, MetricsJson)
            + "\n");
        WriteEvents(result);
        TrainingCurves.Save(System.IO.Path.Combine(Path, "curves.png"), history, title);
    }

    /// <summary>
    /// One epoch as TensorBoard scalars at step = epoch: the training loss, tokens/s and learning rate (constant:
    /// GenRec, like the official trainer at warm-up 0, has no schedule), and HR / NDCG / MRR where it was evaluated.
    /// </summary>
    private void WriteEvents(EpochResult r)
    {
        _events ??= torch.utils.tensorboard.SummaryWriter(TensorBoard);
        _events.add_scalar("train/loss", (float)r.TrainLoss, r.Epoch);
        _events.add_scalar("train/tokens_per_second", (float)r.TokensPerSecond, r.Epoch);
        _events.add_scalar("train/learning_rate", (float)_learningRate, r.Epoch);
        if (r.Metrics is not { } m) return;
        foreach (var (tag, value) in new[]
        {
            ("eval/hr@10", m.Hr10), ("eval/ndcg@10", m.Ndcg10), ("eval/hr@50", m.Hr50), ("eval/ndcg@50", m.Ndcg50),
            ("eval/hr@200", m.Hr200), ("eval/ndcg@200", m.Ndcg200), ("eval/mrr", m.Mrr),
        })
            _events.add_scalar(tag, (float)value, r.Epoch);
    }

    /// <summary>The epochs in metrics.jsonl up to <paramref name="epochsDone"/>; later lines (written after the
    /// checkpoint) are removed.</summary>
    public List<EpochResult> KeepEpochsUpTo(int epochsDone, ExperimentConfig config)
    {
        _learningRate = config.Training.LearningRate;
        var file = System.IO.Path.Combine(Path, "metrics.jsonl");
        if (!File.Exists(file)) return [];
        var kept = ReadEpochsUpTo(epochsDone);
        WriteAtomically(file, string.Concat(kept.Select(x => x.Line + "\n")));
        // The event files may hold epochs the checkpoint does not: write them again from the kept lines.
        if (Directory.Exists(TensorBoard)) Directory.Delete(TensorBoard, recursive: true);
        _events = null;
        foreach (var (_, result) in kept) WriteEvents(result);
        return kept.Select(x => x.Result).ToList();
    }

    /// <summary>The epochs in metrics.jsonl up to <paramref name="epochsDone"/>, changing nothing: what the ranks
    /// that do not write the folder read when a distributed run resumes (rank 0 rewrites it at the same time).
    /// </summary>
    public List<EpochResult> EpochsUpTo(int epochsDone) => ReadEpochsUpTo(epochsDone).Select(x => x.Result).ToList();

    private List<(string Line, EpochResult Result)> ReadEpochsUpTo(int epochsDone)
    {
        var file = System.IO.Path.Combine(Path, "metrics.jsonl");
        if (!File.Exists(file)) return [];
        return File.ReadAllLines(file).Where(l => l.Length > 0)
            .Select(l => (Line: l, Result: JsonSerializer.Deserialize<EpochResult>(l, MetricsJson)!))
            .Where(x => x.Result.Epoch <= epochsDone).ToList();
    }

    /// <summary>Appends an incremental update's report to <c>updates.jsonl</c>.</summary>
    public void AppendUpdate(IncrementalReport report) =>
        File.AppendAllText(System.IO.Path.Combine(Path, "updates.jsonl"),
            JsonSerializer.Serialize(report, MetricsJson) + "\n");

    private static void WriteAtomically(string path, string text)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
