using GenRec.Model;
using static TorchSharp.torch;

namespace GenRec.Tests.Model;

public class RelativeAttentionBiasTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(-1, 0)]
    [InlineData(2, 2)]        // ln 2 / 0.301 = 2.30
    [InlineData(10, 7)]       // ln 10 / 0.301 = 7.65
    [InlineData(-10, 7)]
    [InlineData(3600, 27)]    // ln 3600 / 0.301 = 27.2
    [InlineData(86400, 37)]   // ln 86400 / 0.301 = 37.8
    [InlineData(long.MaxValue / 2, 128)]
    public void BucketIsLogScaleAndClamped(long delta, long bucket) => Assert.Equal(bucket, TimeBuckets.Bucket(delta));

    [Fact]
    public void TensorBucketsMatchTheScalarFunctionForNextEventTimes()
    {
        long[] t = [0, 5, 3605, 90000];
        long[] next = [5, 3605, 90000, 100000];
        using var b = TimeBuckets.Compute(tensor(next).view(1, 4), tensor(t).view(1, 4), 128);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(TimeBuckets.Bucket(next[i] - t[j]), b[0, i, j].item<long>());
    }

    [Fact]
    public void BiasIsPositionWeightPlusTimeWeight()
    {
        const int n = 6;
        using var rab = new RelativeAttentionBias(n, 128);
        using var buckets = tensor(new long[] { 0, 3, 7, 1, 2, 128, 5, 5, 9 }).view(1, 3, 3);
        using var bias = rab.forward(buckets);
        var wp = rab.PositionWeights.detach().data<float>().ToArray();
        var wt = rab.TimeWeights.detach().data<float>().ToArray();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(wp[j - i + n - 1] + wt[buckets[0, i, j].item<long>()], bias[0, i, j].item<float>(), 6);
        Assert.Equal(2 * n - 1, wp.Length);
        Assert.Equal(129, wt.Length);
    }
}
