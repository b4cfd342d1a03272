using GenRec.Data;
using GenRec.Model;
using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Tests.Model;

public class HstuMathTests
{
    private static double Silu(double x) => x / (1 + Math.Exp(-x));

    [Fact]
    public void PointwiseAttentionIsSiluDividedByNWithCausalMaskAndNoSoftmax()
    {
        // One head, L = 2, d = 1: S = q kᵀ = [[3, -1], [6, -2]]; rab adds 0.5 to every entry.
        using var q = tensor(new float[] { 1, 2 }).view(1, 1, 2, 1);
        using var k = tensor(new float[] { 3, -1 }).view(1, 1, 2, 1);
        using var rab = full(1, 1, 2, 2, Scalars.Of(0.5));
        using var a = HstuLayer.PointwiseAttentionWeights(q, k, rab, n: 5);
        var got = a.data<float>().ToArray();
        double[] want = [Silu(3.5) / 5, 0, Silu(6.5) / 5, Silu(-1.5) / 5];
        for (int i = 0; i < 4; i++) Assert.Equal(want[i], got[i], 5);
        // Not a softmax: rows do not sum to 1.
        Assert.NotEqual(1.0, got[2] + got[3], 2);
    }

    [Fact]
    public void LayerMatchesAPlainLoopImplementationOfTheEquations()
    {
        manual_seed(3);
        const int d = 4, h = 2, dqk = 2, dv = 3, l = 3, n = 7;
        using var layer = new HstuLayer(d, h, dqk, dv, n, dropout: 0, attentionDropout: 0);
        layer.eval();
        using var x = randn(1, l, d);
        using var rab = randn(1, l, l).mul(Scalars.Of(0.1));
        using var valid = ones(1, l, 1);
        using var y = layer.forward(x, rab, valid);

        var X = To2D(x.view(l, d));
        var W = To2D(layer.Uvqk.detach());
        var Wo = To2D(layer.Output.weight!.detach());
        var bo = layer.Output.bias!.detach().data<float>().ToArray();
        var R = To2D(rab.view(l, l));
        int width = 2 * h * dv + 2 * h * dqk;
        var uvqk = new double[l, width];
        for (int i = 0; i < l; i++)
        {
            var xn = LayerNorm(Row(X, i));
            for (int c = 0; c < width; c++)
            {
                double s = 0; for (int j = 0; j < d; j++) s += xn[j] * W[j, c];
                uvqk[i, c] = Silu(s);
            }
        }
        int uOff = 0, vOff = h * dv, qOff = 2 * h * dv, kOff = 2 * h * dv + h * dqk;
        for (int i = 0; i < l; i++)
        {
            var o = new double[h * dv];
            for (int head = 0; head < h; head++)
                for (int j = 0; j <= i; j++)
                {
                    double s = R[i, j];
                    for (int c = 0; c < dqk; c++) s += uvqk[i, qOff + head * dqk + c] * uvqk[j, kOff + head * dqk + c];
                    double a = Silu(s) / n;
                    for (int c = 0; c < dv; c++) o[head * dv + c] += a * uvqk[j, vOff + head * dv + c];
                }
            var on = LayerNorm(o);
            for (int c = 0; c < d; c++)
            {
                double s = X[i, c] + bo[c];
                for (int m = 0; m < h * dv; m++) s += Wo[c, m] * uvqk[i, uOff + m] * on[m];
                Assert.Equal(s, y[0, i, c].item<float>(), 4);
            }
        }
    }

    [Fact]
    public void ChangingALaterItemNeverChangesAnEarlierOutput()
    {
        using var model = TinyHstu();
        long[] a = [5, 9, 2, 7, 3], b = [5, 9, 2, 8, 1];
        long[] t = [100, 200, 400, 5000, 90000];
        using var ba = SequenceBatch.Create([a], [t], null, CPU);
        using var bb = SequenceBatch.Create([b], [t], null, CPU);
        using var _ = no_grad();
        using var ya = model.forward(ba);
        using var yb = model.forward(bb);
        Assert.True(ya[0, ..3].allclose(yb[0, ..3], 1e-6, 1e-6));
        Assert.False(ya[0, 3].allclose(yb[0, 3], 1e-4, 1e-4));
    }

    [Fact]
    public void OutputsAtValidPositionsDoNotDependOnPadding()
    {
        using var model = TinyHstu();
        long[] shortSeq = [4, 8, 6], longSeq = [1, 2, 3, 4, 5, 6, 7, 8];
        long[] ts = [10, 20, 40], tl = [1, 2, 3, 4, 5, 6, 7, 8];
        using var _ = no_grad();
        using var alone = SequenceBatch.Create([shortSeq], [ts], [99L], CPU);
        using var padded = SequenceBatch.Create([shortSeq, longSeq], [ts, tl], [99L, 9L], CPU);
        using var ya = model.forward(alone);
        using var yp = model.forward(padded);
        Assert.True(ya[0].allclose(yp[0, ..3], 1e-5, 1e-6));
        Assert.Equal(0, yp[0, 3..].abs().sum().item<float>());
    }

    [Fact]
    public void UserEmbeddingsAreUnitLength()
    {
        using var model = TinyHstu();
        using var _ = no_grad();
        using var b = SequenceBatch.Create([[1L, 2, 3]], [[1L, 2, 3]], null, CPU);
        using var y = model.forward(b);
        Assert.True(y.norm(-1, false, 2).allclose(ones(1, 3), 1e-5, 1e-5));
    }

    [Fact]
    public void SasRecIsCausalToo()
    {
        manual_seed(5);
        using var model = new SasRecEncoder(new ModelConfig { Encoder = "sasrec", EmbeddingDim = 8, NumLayers = 2, NumHeads = 2, MaxLength = 10 }, 20);
        model.eval();
        using var _ = no_grad();
        using var ba = SequenceBatch.Create([[3L, 4, 5, 6]], [[1L, 2, 3, 4]], null, CPU);
        using var bb = SequenceBatch.Create([[3L, 4, 9, 6]], [[1L, 2, 3, 4]], null, CPU);
        using var ya = model.forward(ba);
        using var yb = model.forward(bb);
        Assert.True(ya[0, ..2].allclose(yb[0, ..2], 1e-6, 1e-6));
        Assert.False(ya[0, 2].allclose(yb[0, 2], 1e-4, 1e-4));
    }

    [Fact]
    public void ItemTableStartsAsDistinctTruncatedNormalRows()
    {
        using var model = new HstuEncoder(new ModelConfig { EmbeddingDim = 16, MaxLength = 10 }, 2000);
        using var w = model.ItemEmbeddings.weight!.detach();
        Assert.Equal(0, w[0].abs().sum().item<float>());
        using var rest = w[1..];
        Assert.InRange(rest.std().item<float>(), 0.015, 0.025);
        Assert.True(rest.abs().max().item<float>() <= 0.04f + 1e-6);
        Assert.False(rest[0].allclose(rest[1]));
    }

    [Fact]
    public void ParametersOfEveryPartAreRegistered()
    {
        using var model = TinyHstu();
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Contains(names, n => n.StartsWith("items", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("positions", StringComparison.Ordinal));
        Assert.Contains(names, n => n.Contains("uvqk", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(names, n => n.Contains("posWeights", StringComparison.OrdinalIgnoreCase));
        // items 20×8 + positions (10+11)×8 + 2 layers × (uvqk 8×(2·2·4+2·2·4) + o (2·4)×8+8) + 2 × (2·21−1 + 129)
        long expected = 20 * 8 + 21 * 8 + 2 * (8 * 32 + 8 * 8 + 8) + 2 * (41 + 129);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
    }

    internal static HstuEncoder TinyHstu()
    {
        manual_seed(11);
        var m = new HstuEncoder(new ModelConfig { EmbeddingDim = 8, NumLayers = 2, NumHeads = 2, QkDim = 4, VDim = 4, MaxLength = 10 }, 20);
        // Larger weights than the init so that every input visibly changes the output.
        using (no_grad()) foreach (var p in m.parameters()) p.mul_(Scalars.Of(10L));
        m.eval();
        return m;
    }

    private static double[,] To2D(Tensor t)
    {
        var r = (int)t.shape[0]; var c = (int)t.shape[1];
        var data = t.contiguous().data<float>().ToArray();
        var a = new double[r, c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) a[i, j] = data[i * c + j];
        return a;
    }

    private static double[] Row(double[,] a, int i) => Enumerable.Range(0, a.GetLength(1)).Select(j => a[i, j]).ToArray();

    private static double[] LayerNorm(double[] v)
    {
        double mean = v.Average(), var = v.Select(x => (x - mean) * (x - mean)).Average();
        return v.Select(x => (x - mean) / Math.Sqrt(var + 1e-6)).ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LayerWithTheMaskFoldedIntoTheBiasEqualsTheLayerWithAMask(int heads)
    {
        manual_seed(8);
        const int d = 6, l = 7, n = 9, buckets = 16;
        using var layer = new HstuLayer(d, heads, 3, 3, n, dropout: 0, attentionDropout: 0);
        using var bias = new RelativeAttentionBias(n, buckets);
        layer.eval();
        using var _ = no_grad();
        using var x = randn(2, l, d);
        using var timeBuckets = randint(0, buckets + 1, [2, l, l], dtype: ScalarType.Int64);
        using var valid = ones(2, l, 1);
        // Row 0 causal; row 1 two sequences of 4 and 3 tokens packed (block-diagonal causal).
        using var seg = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2 }).view(2, l);
        using var allowed = seg.unsqueeze(2).eq(seg.unsqueeze(1)).logical_and(ones(l, l, dtype: ScalarType.Bool).tril()).unsqueeze(1);
        using var want = layer.Forward(x, bias.forward(timeBuckets), valid, allowed, out var k, out var v);
        k.Dispose(); v.Dispose();
        using var index = ReferenceIndex(timeBuckets, allowed, n, buckets);
        using var got = layer.ForwardWithMaskedBias(x, bias.ForIndex(index), valid);
        Assert.True(want.allclose(got, rtol: 1e-4, atol: 1e-6), $"max |Δ| {(want - got).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData(1, 150)]
    [InlineData(2, 97)]
    [InlineData(1, 40)]
    public void CausalRowBlocksGiveTheSameLayerAsTheWholeSquare(int heads, int l)
    {
        manual_seed(9);
        const int d = 8, n = 160, buckets = 32;
        using var layer = new HstuLayer(d, heads, 4, 4, n, dropout: 0, attentionDropout: 0);
        using var bias = new RelativeAttentionBias(n, buckets);
        layer.eval();
        using var _ = no_grad();
        using var x = randn(3, l, d);
        using var timeBuckets = randint(0, buckets + 1, [3, l, l], dtype: ScalarType.Int64);
        using var valid = ones(3, l, 1);
        using var index = ReferenceIndex(timeBuckets, null, n, buckets);
        using var whole = layer.ForwardWithMaskedBias(x, bias.ForIndex(index), valid);
        var blocks = HstuLayer.CausalRowBlocks(l);
        Assert.Equal(l, blocks.Sum(b => b.Rows));
        Assert.Equal(Math.Clamp(l / 48, 1, 4), blocks.Length);
        var rabs = blocks.Select(b => bias.ForIndex(index.narrow(1, b.Start, b.Rows).narrow(2, 0, b.Start + b.Rows).contiguous())).ToArray();
        using var blocked = layer.ForwardWithMaskedBias(x, rabs, valid);
        Assert.True(whole.allclose(blocked, rtol: 1e-4, atol: 1e-6), $"max |Δ| {(whole - blocked).abs().max().item<float>()}");
        // Blocks that do not tile the rows are refused.
        Assert.Throws<ArgumentException>(() => layer.ForwardWithMaskedBias(x, rabs[..^1], valid));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HostBuiltBiasIndexEqualsTheTensorOne(bool packed)
    {
        const int b = 3, l = 9, n = 12, buckets = 128;
        var rng = new Random(packed ? 5 : 6);
        var ts = new long[b * l];
        var qts = new long[b * l];
        long[]? seg = packed ? new long[b * l] : null;
        for (int r = 0; r < b; r++)
        {
            long t = rng.Next(1_000_000);
            for (int i = 0; i < l; i++) ts[r * l + i] = t += rng.Next(4) == 0 ? 0 : (long)Math.Pow(10, rng.Next(9)) + rng.Next(1000);
            for (int i = 0; i < l; i++) qts[r * l + i] = i + 1 < l ? ts[r * l + i + 1] : ts[r * l + i] + 5;
            if (seg is not null) for (int i = 0; i < l; i++) seg[r * l + i] = i < 2 + r ? 1 : i < 6 ? 2 : 3;
        }
        var host = RelativeAttentionBias.BuildIndex(ts, qts, seg, b, l, n, buckets);
        using var tsT = tensor(ts, [b, l]);
        using var qtsT = tensor(qts, [b, l]);
        using var timeBuckets = TimeBuckets.Compute(qtsT, tsT, buckets);
        using var segT = seg is null ? null : tensor(seg, [b, l]);
        using var allowed = segT is null ? null : segT.unsqueeze(2).eq(segT.unsqueeze(1)).logical_and(ones(l, l, dtype: ScalarType.Bool).tril()).unsqueeze(1);
        using var want = ReferenceIndex(timeBuckets, allowed, n, buckets);
        Assert.Equal(want.data<long>().ToArray().Select(v => (int)v), host);
    }

    /// <summary>
    /// The specification of the bias index, as tensor arithmetic: one index per (query, key) into the table of
    /// <see cref="RelativeAttentionBias.ForIndex"/>: position offset (j − i + N − 1) × (buckets + 1)
    /// + time bucket, or the last entry (<see cref="RelativeAttentionBias.Blocked"/>) where <paramref name="allowed"/> ([B, 1, L, L] bool;
    /// null: causal) says no. The host-built <see cref="RelativeAttentionBias.BuildIndex(long[], long[], long[], int, int, int, int)"/> must equal it.
    /// </summary>
    private static Tensor ReferenceIndex(Tensor timeBuckets, Tensor? allowed, int paddedLength, int maxBucket)
    {
        using var scope = NewDisposeScope();
        long l = timeBuckets.shape[1];
        if (l > paddedLength) throw new ArgumentException($"sequence of length {l} is longer than the model's padded length N = {paddedLength}.");
        var i = arange(Scalars.Of((long)l), device: timeBuckets.device).unsqueeze(1);
        var j = arange(Scalars.Of((long)l), device: timeBuckets.device).unsqueeze(0);
        var rel = j.Minus(i).add_(Scalars.Of((long)(paddedLength - 1)));
        var index = rel.mul_(Scalars.Of((long)(maxBucket + 1))).unsqueeze(0).Plus(timeBuckets);
        long blocked = (2L * paddedLength - 1) * (maxBucket + 1);
        var mask = allowed is null ? ones(l, l, dtype: ScalarType.Bool, device: timeBuckets.device).tril().unsqueeze(0) : allowed.squeeze(1);
        return index.masked_fill_(mask.logical_not(), Scalars.Of(blocked)).MoveToOuterDisposeScope();
    }
}
