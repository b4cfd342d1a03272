using GenRec.Data;
using GenRec.Model;
using GenRec.Native;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

/// <summary>
/// GenRec trains HSTU the way the official trainer does (docs/design/parity.md lists each point with its official
/// source): every table and layer starts from the official initialisation, dropout sits where the official code puts
/// it, negatives are the official "local" draws, and an epoch is a seeded shuffle of all training users.
/// </summary>
public class TrainingParityTests
{
    private static (double Mean, double Std, double MaxAbs) Stats(Tensor t)
    {
        var v = t.detach().flatten().to(ScalarType.Float64).data<double>().ToArray();
        double mean = v.Average();
        return (mean, Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length), v.Max(Math.Abs));
    }

    [Fact]
    public void EveryTableAndLayerStartsAsTheOfficialCodeInitialisesIt()
    {
        manual_seed(11);
        var config = new ModelConfig { NumLayers = 4 };
        using var model = new HstuEncoder(config, itemTableSize: 20_001);

        // Item table: the official truncated_normal (normal, fmod 2, × 0.02): within ±0.04, std 0.02 × 0.880.
        var items = Stats(model.ItemEmbeddings.weight!.narrow(0, 1, 20_000));
        Assert.True(items.MaxAbs <= 0.04 + 1e-7, $"item table reaches {items.MaxAbs}");
        Assert.InRange(items.Std, 0.0176 * 0.97, 0.0176 * 1.03);
        // Positions: xavier_normal_ over [N, D], std √(2 / (N + D)).
        double xavier = Math.Sqrt(2.0 / (config.PaddedLength + config.EmbeddingDim));
        Assert.InRange(Stats(model.PositionEmbeddings.weight!).Std, xavier * 0.95, xavier * 1.05);
        foreach (var layer in model.Layers)
        {
            // W_uvqk: normal(0, 0.02), as the official SequentialTransductionUnitJagged constructor draws it (train_fn
            // skips its own init for "_hstu" parameters).
            Assert.InRange(Stats(layer.Uvqk).Std, 0.02 * 0.95, 0.02 * 1.05);
            // W_o: xavier_uniform_, bound √(6 / (in + out)); b_o: nn.Linear's default U(±1/√in).
            double bound = Math.Sqrt(6.0 / (config.VDim + config.EmbeddingDim));
            var o = Stats(layer.Output.weight!);
            Assert.True(o.MaxAbs <= bound && o.MaxAbs > 0.95 * bound, $"W_o reaches {o.MaxAbs}, bound {bound}");
            Assert.True(Stats(layer.Output.bias!).MaxAbs <= 1 / Math.Sqrt(config.VDim));
        }
        // Relative bias weights: normal(0, 0.02) (pooled over layers: 129 time weights per layer are few).
        using var time = cat(model.Biases.Select(b => b.TimeWeights.detach()).ToArray());
        using var pos = cat(model.Biases.Select(b => b.PositionWeights.detach()).ToArray());
        Assert.InRange(Stats(time).Std, 0.02 * 0.85, 0.02 * 1.15);
        Assert.InRange(Stats(pos).Std, 0.02 * 0.93, 0.02 * 1.07);
    }

    [Fact]
    public void InputDropoutActsOnTheScaledEmbeddingPlusPositionAndPaddingStaysZero()
    {
        manual_seed(5);
        using var model = new HstuEncoder(new ModelConfig { Dropout = 0.5 }, itemTableSize: 50);
        using var batch = SequenceBatch.Create([[3L, 7, 9], [4L]], [[1L, 2, 3], [5L]], null, CPU);
        using var positions = arange(Scalars.Of(3L));
        using var _ = no_grad();
        model.eval();
        using var clean = model.InputEmbeddings(batch, positions);
        model.train();
        using var dropped = model.InputEmbeddings(batch, positions);
        // x = Dropout(E[id]·√D + P[i]): each entry is dropped or the clean value / (1 − p).
        var c = clean.data<float>().ToArray();
        var d = dropped.data<float>().ToArray();
        int zeros = 0;
        for (int i = 0; i < c.Length; i++)
        {
            if (d[i] == 0) { zeros++; continue; }
            Assert.Equal(2 * c[i], d[i], 4);
        }
        Assert.InRange(zeros, c.Length / 4, 3 * c.Length / 4);
        // The clean input is E·√D + P exactly.
        using var e = model.ItemEmbeddings.forward(batch.Ids).mul(Scalars.Of(Math.Sqrt(50)))
            .Plus(model.PositionEmbeddings.forward(positions).unsqueeze(0));
        Assert.True(clean.allclose(e, 1e-6, 1e-6));
        // After the encoder the padding rows are zero (the official code zeroes where past_ids == 0).
        using var hidden = model.Hidden(batch);
        Assert.Equal(0f, hidden[1, 1].abs().sum().item<float>());
    }

    [Fact]
    public void LayerDropoutActsOnTheGatedAttentionOutputBeforeTheOutputProjection()
    {
        manual_seed(9);
        using var layer = new HstuLayer(dim: 6, heads: 1, qkDim: 6, vDim: 6, paddedLength: 10, dropout: 0.5,
            attentionDropout: 0);
        using var x = randn(1, 4, 6);
        using var rab = zeros(1, 4, 4);
        using var valid = ones(1, 4, 1);
        using var _ = no_grad();
        // Trained-size weights (the 0.02 init makes A·V almost constant and g tiny).
        layer.Uvqk.mul_(Scalars.Of(30.0));
        // g = U ⊙ LN(A·V), the input of W_o, from the layer's own pieces in eval mode.
        layer.eval();
        var (u, v, q, k) = layer.Project(x);
        using var a = HstuLayer.PointwiseAttentionWeights(q, k, rab.unsqueeze(1), 10);
        using var g = u * nn.functional.layer_norm(a.matmul(v).transpose(1, 2).reshape(1, 4, 6), [6], eps: 1e-6);
        layer.train();
        using var y = layer.forward(x, rab, valid);
        // Y = X + W_o · Dropout(g) + b_o, so W_o⁻¹ (Y − X − b_o) is Dropout(g): each entry 0 or 2g.
        using var w = layer.Output.weight!.to(ScalarType.Float64);
        using var dropped = (y - x - layer.Output.bias!).to(ScalarType.Float64).matmul(w.t().inverse());
        var d = dropped.data<double>().ToArray();
        var want = g.to(ScalarType.Float64).data<double>().ToArray();
        int off = 0;
        for (int i = 0; i < d.Length; i++)
        {
            if (Math.Abs(d[i]) < 1e-4) { off++; continue; }
            Assert.Equal(2 * want[i], d[i], 3);
        }
        Assert.InRange(off, 2, d.Length - 2);
    }

    [Fact]
    public void NegativesAreDrawnUniformlyWithReplacementAndMayHoldTheTarget()
    {
        manual_seed(3);
        using var corpus = tensor(new long[] { 2, 5, 11, 17 });
        using var draws = SampledSoftmaxLoss.SampleNegatives(corpus, rows: 2_000, count: 16);
        Assert.Equal([2_000L, 16], draws.shape);
        var all = draws.data<long>().ToArray();
        var counts = all.GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([2L, 5, 11, 17], counts.Keys.Order());
        foreach (var n in counts.Values) Assert.InRange(n, 0.23 * all.Length, 0.27 * all.Length);
        // With replacement: 16 draws from 4 items repeat within a row, and a row holds its target (say item 5).
        long[] Row(int r) => all.Skip(r * 16).Take(16).ToArray();
        Assert.All(Enumerable.Range(0, 50), r => Assert.True(Row(r).Distinct().Count() < 16));
        Assert.Contains(Enumerable.Range(0, 2_000), r => Row(r).Contains(5L));
    }

    [Fact]
    public void AnEpochIsASeededShuffleOfEveryTrainingUserInFullBatchesAndOnePartial()
    {
        var users = Enumerable.Range(0, 300).Select(u => new TokenWindow(u, [1L, 2], [1L, 2], 0, 2)).ToList();
        var config = new ExperimentConfig { Training = new TrainingConfig { BatchSize = 128, Seed = 42 } };
        var epoch0 = EpochPlan.Batches(users, config, 0);
        Assert.Equal([128, 128, 44], epoch0.Select(b => b.Length));
        static long[] Order(List<TokenWindow[]> batches) => [.. batches.SelectMany(b => b).Select(w => w.UserId)];
        Assert.Equal(Enumerable.Range(0, 300).Select(u => (long)u), Order(epoch0).Order());
        Assert.Equal(Order(epoch0), Order(EpochPlan.Batches(users, config, 0)));
        Assert.NotEqual(Order(epoch0), Order(EpochPlan.Batches(users, config, 1)));
    }

    [Fact]
    public void TheOptimiserDefaultsAreTorchsAdamW()
    {
        // The official trainer builds torch.optim.AdamW(lr, betas = (0.9, 0.98), weight_decay) with PyTorch's default
        // epsilon 1e-8; GenRec's AdamW (equal to TorchSharp's, AdamWTests) takes the same default.
        var eps = typeof(AdamW).GetConstructors().Single().GetParameters().Single(p => p.Name == "eps");
        Assert.Equal(1e-8, (double)eps.DefaultValue!);
        var t = ExperimentConfig.Load(Path.Combine(Repository.Root, "configs", "ml-1m", "hstu.json")).Training;
        Assert.Equal((0.9, 0.98, 0.0, 1e-3), (t.Beta1, t.Beta2, t.WeightDecay, t.LearningRate));
    }
}
