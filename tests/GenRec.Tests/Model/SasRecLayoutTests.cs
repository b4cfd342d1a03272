using System.Text;
using System.Text.Json.Nodes;
using GenRec.Data;
using GenRec.Model;
using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Tests.Model;

/// <summary>
/// SASRec as the official generative-recommenders code computes it (the paper's baseline row), and the original
/// paper's layout kept as an option.
/// </summary>
public class SasRecLayoutTests
{
    private static ModelConfig Config(string layout) => new()
    {
        Encoder = "sasrec",
        EmbeddingDim = 4,
        NumLayers = 1,
        NumHeads = 2,
        MaxLength = 6,
        Dropout = 0.2,
        SasRecLayout = layout,
    };

    [Fact]
    public void TheOfficialBlockIsNormOfNormedInputPlusAttentionThenAResidualFfnWithoutAFinalNorm()
    {
        manual_seed(4);
        using var model = new SasRecEncoder(Config(ModelConfig.OfficialSasRec), 12);
        model.eval();
        // No learned layer norm anywhere: the official code calls F.layer_norm without weights.
        Assert.DoesNotContain(model.named_parameters(), p => p.name.Contains("norm", StringComparison.OrdinalIgnoreCase)
            || p.name.Contains("last", StringComparison.Ordinal));
        using var batch = SequenceBatch.Create([[3L, 5, 7]], [[1L, 2, 3]], null, CPU);
        using var _ = no_grad();
        using var got = model.forward(batch);

        // The block written out: Q = LN(x); A = softmax(Q Wq (x Wk)ᵀ / √d_h, causal) per head;
        // o = concat(A x Wv) Wo; h = LN(Q + o); y = h + W2 relu(W1 h); the user embedding is y / ‖y‖.
        using var positions = arange(Scalars.Of(3L));
        var x = model.InputEmbeddings(batch, positions).squeeze(0);      // [3, 4]
        var (wq, wk, wv, wo) = model.Attention(0);
        var (w1, w2) = model.FeedForward(0);
        var qIn = nn.functional.layer_norm(x, [4], eps: 1e-8);
        var q = wq.forward(qIn);
        var k = wk.forward(x);
        var v = wv.forward(x);
        var heads = new List<Tensor>();
        for (int h = 0; h < 2; h++)
        {
            var qh = q.narrow(1, 2 * h, 2);
            var kh = k.narrow(1, 2 * h, 2);
            var s = qh.matmul(kh.t()).div(Scalars.Of(Math.Sqrt(2)));
            s = s.masked_fill(ones(3, 3, dtype: ScalarType.Bool).triu(1), Scalars.Of(double.NegativeInfinity));
            heads.Add(s.softmax(-1).matmul(v.narrow(1, 2 * h, 2)));
        }
        var o = wo.forward(cat(heads.ToArray(), 1));
        var hIn = nn.functional.layer_norm(qIn.Plus(o), [4], eps: 1e-8);
        var y = hIn.Plus(w2.forward(nn.functional.relu(w1.forward(hIn))));
        var want = nn.functional.normalize(y, p: 2, dim: -1, eps: 1e-6);
        Assert.True(got.squeeze(0).allclose(want, 1e-5, 1e-6));
    }

    [Fact]
    public void TheKang2018LayoutHasLearnedNormsAndAFinalNorm()
    {
        manual_seed(4);
        using var model = new SasRecEncoder(Config(ModelConfig.Kang2018SasRec), 12);
        Assert.Contains(model.named_parameters(), p => p.name.StartsWith("_last", StringComparison.Ordinal));
        Assert.Equal(2 + 2 * 2, model.named_parameters().Count(p => p.name.Contains("Norms", StringComparison.Ordinal)
            || p.name.StartsWith("_last", StringComparison.Ordinal)));
    }

    [Fact]
    public void OfficialInitialisationIsXavierNormalWithTheFusedInputProjection()
    {
        manual_seed(8);
        const int d = 64;
        using var model = new SasRecEncoder(new ModelConfig
        {
            Encoder = "sasrec",
            EmbeddingDim = d,
            NumLayers = 3,
            NumHeads = 1,
            MaxLength = 10,
        }, 12);
        double Std(IEnumerable<Tensor> ts)
        {
            var v = ts.SelectMany(t => t.detach().flatten().data<float>().ToArray()).Select(f => (double)f).ToArray();
            double m = v.Average();
            return Math.Sqrt(v.Sum(a => (a - m) * (a - m)) / v.Length);
        }
        var layers = Enumerable.Range(0, 3).Select(model.Attention).ToList();
        // Q, K, V are thirds of one [3D, D] xavier-normal matrix: std √(2 / 4D); the output projection's √(2 / 2D).
        Assert.InRange(Std(layers.SelectMany(l => new[] { l.Q.weight!, l.K.weight!, l.V.weight! })),
            Math.Sqrt(2.0 / (4 * d)) * 0.97, Math.Sqrt(2.0 / (4 * d)) * 1.03);
        Assert.InRange(Std(layers.Select(l => l.Out.weight!)), Math.Sqrt(1.0 / d) * 0.95, Math.Sqrt(1.0 / d) * 1.05);
        Assert.All(layers, l => Assert.Equal(0f, l.Q.bias!.abs().sum().item<float>()));
    }

    [Fact]
    public void SasRecCheckpointsFromBeforeTheLayoutOptionLoadAsTheLayoutTheyWereTrainedWith()
    {
        manual_seed(2);
        var config = new ExperimentConfig { Model = Config(ModelConfig.Kang2018SasRec) };
        using var model = new SasRecEncoder(config.Model, 12);
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "old.ckpt");
        var keys = Enumerable.Range(1, 11).Select(i => $"{i}").ToList();
        new Checkpoint { Config = config, ItemTableSize = 12, ItemKeys = keys }.Save(path, model);
        RewriteHeader(path, h => ((JsonObject)h["config"]!["model"]!).Remove("sasRecLayout"));
        var (info, loaded) = Checkpoint.Load(path, CPU);
        using (loaded) Assert.Equal(ModelConfig.Kang2018SasRec, info.Config.Model.SasRecLayout);
    }

    /// <summary>Edits a checkpoint's header as an earlier GenRec would have written it (checksum redone).</summary>
    private static void RewriteHeader(string path, Action<JsonNode> edit)
    {
        var bytes = File.ReadAllBytes(path);
        int length = BitConverter.ToInt32(bytes, 8);
        var header = JsonNode.Parse(bytes.AsSpan(12, length))!;
        edit(header);
        var newHeader = Encoding.UTF8.GetBytes(header.ToJsonString());
        var rest = bytes.AsSpan(12 + length, bytes.Length - 12 - length - 39).ToArray();
        using var ms = new MemoryStream();
        ms.Write(bytes, 0, 8);
        ms.Write(BitConverter.GetBytes(newHeader.Length));
        ms.Write(newHeader);
        ms.Write(rest);
        var hash = System.Security.Cryptography.SHA256.HashData(ms.ToArray());
        ms.Write("SHA256\n"u8);
        ms.Write(hash);
        File.WriteAllBytes(path, ms.ToArray());
    }
}
