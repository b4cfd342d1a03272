using GenRec.Model;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

/// <summary>Fault injection on checkpoint files: every truncation and every bit flip tried must be refused, never loaded.</summary>
public class CheckpointIntegrityTests
{
    private static string Good(TempDir dir)
    {
        var cfg = new ExperimentConfig { Model = new ModelConfig { EmbeddingDim = 8, NumLayers = 1, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 10 } };
        using var model = SequenceEncoder.Create(cfg.Model, 20);
        var path = Path.Combine(dir.Path, "good.ckpt");
        new Checkpoint { Config = cfg, ItemTableSize = 20, Dataset = "d", Epoch = 1 }.Save(path, model);
        return path;
    }

    [Fact]
    public void EveryTruncationIsRefused()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(Good(dir));
        var rng = new Random(11);
        // The header and trailer edges, then random cut points: 40 in all.
        var cuts = new[] { 0, 1, 8, 12, bytes.Length - 40, bytes.Length - 39, bytes.Length - 1 }.Concat(Enumerable.Range(0, 33).Select(_ => rng.Next(bytes.Length))).ToArray();
        var path = Path.Combine(dir.Path, "cut.ckpt");
        foreach (int n in cuts)
        {
            File.WriteAllBytes(path, bytes[..n]);
            var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, CPU));
            Assert.Contains(path, e.Message);
        }
    }

    [Fact]
    public void EveryBitFlipIsRefused()
    {
        using var dir = new TempDir();
        var good = Good(dir);
        var bytes = File.ReadAllBytes(good);
        var rng = new Random(12);
        var path = Path.Combine(dir.Path, "flipped.ckpt");
        for (int i = 0; i < 60; i++)
        {
            var copy = (byte[])bytes.Clone();
            // A third in the header, the rest anywhere (weights, trailer).
            int at = i % 3 == 0 ? rng.Next(12, 200) : rng.Next(copy.Length);
            copy[at] ^= (byte)(1 << rng.Next(8));
            File.WriteAllBytes(path, copy);
            var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, CPU));
            Assert.Contains(path, e.Message);
        }
        // The untouched file still loads.
        var (_, model) = Checkpoint.Load(good, CPU);
        model.Dispose();
    }
}
