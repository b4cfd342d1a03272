using GenRec.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

public class AdamWTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void MatchesTorchSharpsAdamW(double weightDecay)
    {
        manual_seed(2);
        using var init = randn(5, 3);
        using var target = randn(5, 3);
        var a = new Parameter(init.clone());
        var b = new Parameter(init.clone());
        using var ours = new GenRec.Native.AdamW([a], 0.01, 0.9, 0.98, weightDecay);
        using var theirs = optim.AdamW([b], 0.01, 0.9, 0.98, weight_decay: weightDecay);
        for (int step = 0; step < 6; step++)
        {
            ours.ZeroGrad();
            using (var l = (a - target).pow(Scalars.Of(2L)).sum()) l.backward();
            ours.Step();
            theirs.zero_grad();
            using (var l = (b - target).pow(Scalars.Of(2L)).sum()) l.backward();
            theirs.step();
        }
        Assert.True(a.allclose(b, 1e-5, 1e-6));
        Assert.False(a.allclose(init));
        Assert.Equal(6, ours.StepCount);
    }
}
