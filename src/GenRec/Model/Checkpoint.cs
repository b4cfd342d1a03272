using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// A trained model with everything needed to use it again: the experiment config, the item table size, the
/// dataset it was trained on, the epoch and its metrics, then the weights. Layout: magic <c>GENREC2\n</c>,
/// a little-endian int32 length, that many bytes of UTF-8 JSON header, TorchSharp's state dict, then a trailer:
/// <c>SHA256\n</c> and the SHA-256 of every byte before it. Written to a temporary file, flushed to disk and renamed,
/// so a crash never leaves half a checkpoint; a truncated or altered file fails the checksum and is refused.
/// </summary>
public sealed record Checkpoint
{
    private static readonly byte[] Magic = "GENREC2\n"u8.ToArray();
    private static readonly byte[] LegacyMagic = "GENREC1\n"u8.ToArray();
    private static readonly byte[] TrailerTag = "SHA256\n"u8.ToArray();
    private const int TrailerLength = 7 + 32;

    /// <summary>The experiment config.</summary>
    public required ExperimentConfig Config { get; init; }

    /// <summary>Rows in the item table (largest raw item id + 1).</summary>
    public required long ItemTableSize { get; init; }

    /// <summary>The feature space the model embeds (null or empty: items only).</summary>
    public GenRec.Data.Features.FeatureSpace? Features { get; init; }

    /// <summary>Name of the dataset trained on.</summary>
    public string Dataset { get; init; } = "";

    /// <summary>
    /// The id map: the source key of each item id, in id order (id i is <c>ItemKeys[i − 1]</c>). Every command and the
    /// service check it against their data (<see cref="EnsureFits"/>); null only in checkpoints of an earlier GenRec.
    /// </summary>
    public IReadOnlyList<string>? ItemKeys { get; init; }

    /// <summary>
    /// Refuses <paramref name="data"/> unless this checkpoint (read from <paramref name="path"/>) was trained on the
    /// same item ids and feature space: the message names both.
    /// </summary>
    public void EnsureFits(string path, Data.Features.PreparedDataset data)
    {
        Data.ItemIds.EnsureMatch(path, Dataset, ItemKeys, data);
        if (data.ItemTableSize > ItemTableSize)
            throw new ArgumentException($"{data.Name} has item ids up to {data.ItemTableSize - 1}, but {path}'s table holds ids below {ItemTableSize}.");
        Data.ItemIds.EnsureFeatures(path, Dataset, Features, Config.Features, data);
    }

    /// <summary>Incremental training's position on its event log (<c>genrec train --resume RUN --events SOURCE</c>);
    /// null for a model trained only on its dataset.</summary>
    public StreamState? Stream { get; init; }

    /// <summary>When the file was written (UTC): the age of a served model is measured from it.</summary>
    public DateTimeOffset? WrittenAt { get; init; }

    /// <summary>Epochs completed.</summary>
    public int Epoch { get; init; }

    /// <summary>
    /// Steps already taken in epoch <see cref="Epoch"/> + 1 (a checkpoint written mid-epoch, at a checkpoint interval or
    /// on Ctrl-C); 0 at an epoch's end.
    /// </summary>
    public int Step { get; init; }

    /// <summary>SHA-256 of the training data as the trainer saw it (the trainer's data fingerprint); a resume on other data is refused.</summary>
    public string? DataFingerprint { get; init; }

    /// <summary>
    /// A metrics record as it goes into the header (the evaluators' record types live above this room, so the header
    /// keeps their JSON form: <see cref="Metrics"/>, <see cref="RankingMetrics"/>).
    /// </summary>
    public static System.Text.Json.Nodes.JsonObject? MetricsJson(object? metrics) =>
        metrics is null ? null : JsonSerializer.SerializeToNode(metrics, metrics.GetType(), ExperimentConfig.Json)!.AsObject();

    /// <summary>Metrics of the last evaluation (a retrieval metrics record as JSON), if any.</summary>
    public System.Text.Json.Nodes.JsonObject? Metrics { get; init; }

    /// <summary>Ranking checkpoints (<c>genrec rank-train --out</c>): the tasks in logit order; null for retrieval models.</summary>
    public IReadOnlyList<Data.RankingTask>? RankingTasks { get; init; }

    /// <summary>Ranking checkpoints: the test users' metrics at the end of training (a ranking evaluation record as JSON).</summary>
    public System.Text.Json.Nodes.JsonObject? RankingMetrics { get; init; }

    /// <summary>Whether this is a ranking model (<see cref="LoadRanker"/>) rather than a retrieval model (<see cref="Load"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsRanking => RankingTasks is not null;

    /// <summary>Writes the header and the model's weights to <paramref name="path"/> atomically, with a checksum.</summary>
    public void Save(string path, nn.Module model) => Save(path, model, null);

    /// <summary>
    /// Writes the header, the model's weights and, after them, whatever <paramref name="extra"/> writes (training
    /// state: optimiser moments, random-number generators), atomically, with a checksum over all of it.
    /// </summary>
    public void Save(string path, nn.Module model, Action<BinaryWriter>? extra)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.ReadWrite))
            using (var w = new BinaryWriter(fs))
            {
                var stamped = this with { WrittenAt = DateTimeOffset.UtcNow };
                var header = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(stamped, ExperimentConfig.Json));
                w.Write(Magic);
                w.Write(header.Length);
                w.Write(header);
                model.save(w);
                extra?.Invoke(w);
                w.Flush();
                fs.Position = 0;
                var hash = System.Security.Cryptography.SHA256.HashData(fs);
                fs.Position = fs.Length;
                w.Write(TrailerTag);
                w.Write(hash);
                w.Flush();
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            throw;
        }
    }

    /// <summary>Reads the header only (cheap: no weights).</summary>
    public static Checkpoint ReadHeader(string path)
    {
        using var fs = OpenChecked(path);
        using var r = new BinaryReader(fs);
        return ReadHeader(path, r);
    }

    /// <summary>Reads a checkpoint and rebuilds its model on <paramref name="device"/>, in eval mode.</summary>
    public static (Checkpoint Info, SequenceEncoder Model) Load(string path, Device device)
    {
        using var fs = OpenChecked(path);
        using var r = new BinaryReader(fs);
        var info = ReadHeader(path, r);
        if (info.IsRanking) throw new InvalidDataException($"{path}: a ranking checkpoint (genrec rank-train); retrieval commands need one written by genrec train.");
        var model = SequenceEncoder.Create(info.Config.Model, info.ItemTableSize, info.Features);
        return (info, LoadWeights(path, r, model, device));
    }

    /// <summary>Reads a ranking checkpoint (<c>genrec rank-train --out</c>) and rebuilds its ranker on <paramref name="device"/>, in eval mode.</summary>
    public static (Checkpoint Info, Ranker Model) LoadRanker(string path, Device device)
    {
        using var fs = OpenChecked(path);
        using var r = new BinaryReader(fs);
        var info = ReadHeader(path, r);
        if (!info.IsRanking) throw new InvalidDataException($"{path}: a retrieval checkpoint (genrec train); ranking needs one written by genrec rank-train --out.");
        var model = Ranker.Create(info.Config, info.ItemTableSize, info.Features ?? new Data.Features.FeatureSpace(), info.RankingTasks!);
        return (info, LoadWeights(path, r, model, device));
    }

    /// <summary>
    /// Reads a checkpoint's header, loads its weights into <paramref name="model"/> (which must have the same
    /// architecture) and hands the rest of the file to <paramref name="rest"/> (the trainer's state).
    /// </summary>
    public static Checkpoint Restore(string path, nn.Module model, Action<BinaryReader> rest)
    {
        using var fs = OpenChecked(path);
        using var r = new BinaryReader(fs);
        var info = ReadHeader(path, r);
        try
        {
            model.load(r);
            rest(r);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not InvalidDataException)
        {
            throw new InvalidDataException($"{path}: the training state could not be read ({e.Message}).", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        return info;
    }

    private static T LoadWeights<T>(string path, BinaryReader r, T model, Device device) where T : nn.Module
    {
        try { model.load(r); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw new InvalidDataException($"{path}: the weights could not be read ({e.Message}); the file is damaged or from another model.", e);
        }
        model.to(device);
        model.eval();
        return model;
    }

    /// <summary>
    /// Opens a checkpoint after checking its checksum: a stream over everything before the trailer. A file that is
    /// truncated, altered, or not a checkpoint is refused with <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    internal static Stream OpenChecked(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found.", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length >= LegacyMagic.Length && bytes.AsSpan(0, LegacyMagic.Length).SequenceEqual(LegacyMagic))
            throw new InvalidDataException($"{path}: a checkpoint from an earlier GenRec without a checksum (GENREC1); retrain to write one this version can verify.");
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a GenRec checkpoint (bad magic).");
        int body = bytes.Length - TrailerLength;
        if (body < Magic.Length || !bytes.AsSpan(body, TrailerTag.Length).SequenceEqual(TrailerTag))
            throw new InvalidDataException($"{path}: truncated checkpoint ({bytes.Length:N0} bytes, no checksum trailer); the file was cut short.");
        var want = bytes.AsSpan(body + TrailerTag.Length, 32);
        var got = System.Security.Cryptography.SHA256.HashData(bytes.AsSpan(0, body));
        if (!want.SequenceEqual(got))
            throw new InvalidDataException($"{path}: checksum mismatch ({bytes.Length:N0} bytes); the checkpoint is damaged or was altered and will not be loaded.");
        return new MemoryStream(bytes, 0, body, writable: false);
    }

    private static Checkpoint ReadHeader(string path, BinaryReader r)
    {
        var magic = r.ReadBytes(Magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a GenRec checkpoint (bad magic).");
        int n = r.ReadInt32();
        if (n <= 0 || n > 1 << 30) throw new InvalidDataException($"{path}: damaged checkpoint header (length {n}).");
        var bytes = r.ReadBytes(n);
        if (bytes.Length != n) throw new InvalidDataException($"{path}: truncated checkpoint header.");
        try
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(bytes) ?? throw new InvalidDataException($"{path}: empty checkpoint header.");
            if (node["config"] is { } config)
            {
                // SASRec checkpoints written before model.sasRecLayout existed hold the kang2018 layout's weights.
                if (config["model"] is System.Text.Json.Nodes.JsonObject model
                    && model["encoder"]?.GetValue<string>() == "sasrec" && !model.ContainsKey("sasRecLayout"))
                    model["sasRecLayout"] = ModelConfig.Kang2018SasRec;
                try { ExperimentConfig.DropRetired(config, path); }
                catch (ArgumentException e) { throw new InvalidDataException($"{e.Message} Train the model again.", e); }
            }
            var info = node.Deserialize<Checkpoint>(ExperimentConfig.Json) ?? throw new InvalidDataException($"{path}: empty checkpoint header.");
            info.Config.Validate();
            return info;
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: damaged checkpoint header: {e.Message}", e); }
    }
}
