namespace GenRec.Tests;

/// <summary>How far apart two models of the same shape are: the largest absolute difference of any weight.</summary>
internal static class WeightDifference
{
    public static double Largest(TorchSharp.torch.nn.Module a, TorchSharp.torch.nn.Module b)
    {
        var wb = b.state_dict();
        double worst = 0;
        foreach (var (name, w) in a.state_dict())
        {
            using var diff = (w - wb[name]).abs().max();
            worst = Math.Max(worst, diff.item<float>());
        }
        return worst;
    }
}
