using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>The log-scale time bucketing of HSTU's relative attention bias.</summary>
public static class TimeBuckets
{
    /// <summary>The bucket width in natural-log units (the reference's 0.301 ≈ log10 2).</summary>
    public const double Width = 0.301;

    /// <summary>bucket(Δ) = clamp(floor(ln(max(|Δ|, 1)) / 0.301), 0, maxBucket).</summary>
    public static long Bucket(long delta, int maxBucket = 128)
    {
        double a = Math.Max(Math.Abs((double)delta), 1.0);
        // float32 log and division match the reference, which takes the log of an int64 tensor (promoted to float32)
        // and divides it by a Python float (applied in float32), and match Compute below.
        long b = (long)MathF.Floor(MathF.Log((float)a) / (float)Width);
        return Math.Clamp(b, 0, maxBucket);
    }

    /// <summary>Buckets of t_{i+1} − t_j for every query i and key j: [B, L, L] int64.</summary>
    public static Tensor Compute(Tensor queryTimestamps, Tensor timestamps, int maxBucket)
    {
        using var scope = NewDisposeScope();
        var delta = queryTimestamps.unsqueeze(2).Minus(timestamps.unsqueeze(1));
        var logd = delta.abs_().clamp_min_(Scalars.Of(1L)).to(ScalarType.Float32).log_();
        return logd.div_(Scalars.Of(Width)).floor_().to(ScalarType.Int64).clamp_(Scalars.Of(0L), Scalars.Of((long)maxBucket)).MoveToOuterDisposeScope();
    }
}
