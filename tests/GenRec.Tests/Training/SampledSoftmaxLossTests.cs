using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

public class SampledSoftmaxLossTests
{
    [Fact]
    public void MatchesHandComputedLossAndMasksNegativesEqualToTheTarget()
    {
        // Items: 1 = (1, 0), 2 = (0, 1), 3 = (0.6, 0.8). User = (1, 0). Target 1, negatives {2, 3} and {1, 2}.
        using var table = tensor(new float[] { 0, 0, 1, 0, 0, 1, 0.6f, 0.8f }).view(4, 2);
        using var users = tensor(new float[] { 1, 0, 1, 0 }).view(2, 2);
        using var targets = tensor(new long[] { 1, 1 });
        using var negs = tensor(new long[] { 2, 3, 1, 2 }).view(2, 2);
        const double tau = 0.5;
        using var loss = SampledSoftmaxLoss.Compute(users, targets, negs, table, tau);

        // Row 1: logits 1/τ = 2, 0, 0.6/τ = 1.2. Row 2: 2, −5e4 (collision), 0.
        double row1 = -(2 - Math.Log(Math.Exp(2) + Math.Exp(0) + Math.Exp(1.2)));
        double row2 = -(2 - Math.Log(Math.Exp(2) + Math.Exp(0)));
        Assert.Equal((row1 + row2) / 2, loss.item<float>(), 5);
    }

    [Fact]
    public void GradientFlowsToUsersAndItems()
    {
        using var table = randn(5, 3, requires_grad: true);
        using var users = randn(4, 3, requires_grad: true);
        using var loss = SampledSoftmaxLoss.Compute(users, tensor(new long[] { 1, 2, 3, 4 }), randint(1, 5, [4, 6]), table, 0.05);
        loss.backward();
        Assert.True(users.grad!.abs().sum().item<float>() > 0);
        Assert.True(table.grad!.abs().sum().item<float>() > 0);
    }
}
