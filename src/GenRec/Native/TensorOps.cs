using static TorchSharp.torch;

namespace GenRec.Native;

/// <summary>
/// Tensor + and − without TorchSharp's hidden alpha scalar: its operators call <c>add(t, 1)</c>, whose implicit
/// <see cref="TorchSharp.Scalar"/> the GC may free while libtorch reads it (a crash "Expected false to be true" in
/// <c>toFloat</c>, or "Unknown scalar type", after some epochs). See <see cref="Scalars"/>.
/// </summary>
internal static class TensorOps
{
    /// <summary>a + b.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, Scalars.Of(1L));

    /// <summary>a − b.</summary>
    public static Tensor Minus(this Tensor a, Tensor b) => a.add(b, Scalars.Of(-1L));
}
