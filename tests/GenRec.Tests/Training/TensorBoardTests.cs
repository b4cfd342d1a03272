using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using GenRec.Data;
using GenRec.Model;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

/// <summary>A run folder's tensorboard/ holds what metrics.jsonl holds, as TensorBoard event files.</summary>
public class TensorBoardTests
{
    [Fact]
    public void EveryEpochsLossRateAndEvaluationAreScalarsAtTheEpochsStep()
    {
        var data = DataSource.FromRatings(SyntheticData.Generate(new SyntheticOptions
        {
            Users = 80,
            Items = 40,
            Interests = 4,
            MinLength = 6,
            MaxLength = 15,
            Seed = 3,
        }));
        var cfg = new ExperimentConfig
        {
            Model = new ModelConfig { EmbeddingDim = 8, QkDim = 8, VDim = 8, MaxLength = 15 },
            Training = new TrainingConfig { Epochs = 3, BatchSize = 32, NumNegatives = 5, EvalEvery = 2 },
        };
        using var dir = new TempDir();
        using (var trainer = new Trainer(cfg, data, CPU) { RunDirectory = dir.Path }) trainer.Run();

        var scalars = Directory.GetFiles(Path.Combine(dir.Path, "tensorboard"), "events.out.tfevents.*")
            .SelectMany(Read).ToList();
        var epochs = File.ReadAllLines(Path.Combine(dir.Path, "metrics.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, epochs.Count);
        foreach (var e in epochs)
        {
            int step = e.GetProperty("epoch").GetInt32();
            float At(string tag) => scalars.Single(s => s.Tag == tag && s.Step == step).Value;
            Assert.Equal((float)e.GetProperty("trainLoss").GetDouble(), At("train/loss"));
            Assert.Equal((float)e.GetProperty("tokensPerSecond").GetDouble(), At("train/tokens_per_second"));
            Assert.Equal((float)cfg.Training.LearningRate, At("train/learning_rate"));
            if (e.GetProperty("metrics").ValueKind == JsonValueKind.Object)
            {
                Assert.Equal((float)e.GetProperty("metrics").GetProperty("hr10").GetDouble(), At("eval/hr@10"));
                Assert.Equal((float)e.GetProperty("metrics").GetProperty("ndcg10").GetDouble(), At("eval/ndcg@10"));
            }
            else Assert.DoesNotContain(scalars, s => s.Tag == "eval/hr@10" && s.Step == step);
        }
        Assert.Equal([2, 3], scalars.Where(s => s.Tag == "eval/hr@10").Select(s => s.Step).Order());
    }

    /// <summary>
    /// The scalars of a TensorBoard event file: TFRecord framing (length, its CRC, an Event protobuf, its CRC), each
    /// Event's step (field 2) and summary values (field 5 → value 1 → tag 1, simple_value 2).
    /// </summary>
    private static IEnumerable<(string Tag, int Step, float Value)> Read(string file)
    {
        var bytes = File.ReadAllBytes(file);
        var found = new List<(string, int, float)>();
        for (int at = 0; at < bytes.Length;)
        {
            int length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at)));
            var evt = bytes.AsSpan(at + 12, length).ToArray();
            at += 12 + length + 4;
            long step = 0;
            var values = new List<(string, float)>();
            foreach (var (field, value) in Fields(evt))
            {
                if (field == 2) step = (long)value.Number;
                if (field != 5) continue;
                foreach (var (f, v) in Fields(value.Bytes!))
                {
                    if (f != 1) continue;
                    string tag = "";
                    float simple = float.NaN;
                    foreach (var (g, w) in Fields(v.Bytes!))
                    {
                        if (g == 1) tag = Encoding.UTF8.GetString(w.Bytes!);
                        if (g == 2) simple = BitConverter.Int32BitsToSingle((int)w.Number);
                    }
                    values.Add((tag, simple));
                }
            }
            found.AddRange(values.Select(v => (v.Item1, (int)step, v.Item2)));
        }
        Assert.NotEmpty(found);
        return found;
    }

    private static IEnumerable<(int Field, (ulong Number, byte[]? Bytes) Value)> Fields(byte[] message)
    {
        var list = new List<(int, (ulong, byte[]?))>();
        for (int at = 0; at < message.Length;)
        {
            ulong key = Varint(message, ref at);
            int field = (int)(key >> 3);
            switch (key & 7)
            {
                case 0: list.Add((field, (Varint(message, ref at), null))); break;
                case 1:
                    list.Add((field, (BinaryPrimitives.ReadUInt64LittleEndian(message.AsSpan(at)), null)));
                    at += 8;
                    break;
                case 2:
                    int n = (int)Varint(message, ref at);
                    list.Add((field, (0, message.AsSpan(at, n).ToArray())));
                    at += n;
                    break;
                case 5:
                    list.Add((field, (BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(at)), null)));
                    at += 4;
                    break;
                default: throw new InvalidDataException($"wire type {key & 7}");
            }
        }
        return list;
    }

    private static ulong Varint(byte[] b, ref int at)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte x = b[at++];
            v |= (ulong)(x & 0x7f) << shift;
            if (x < 0x80) return v;
        }
    }
}
