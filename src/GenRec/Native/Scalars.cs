using System.Collections.Concurrent;
using TorchSharp;

namespace GenRec.Native;

/// <summary>
/// Process-lifetime TorchSharp scalars. TorchSharp 0.107 frees a <see cref="Scalar"/> in its finalizer, and an
/// implicitly converted one (<c>t.div(2.0)</c>) is unreachable as soon as its handle is read, so the GC may free it
/// while libtorch still reads it: training crashed with "Unknown scalar type" after a few epochs. Every scalar GenRec
/// passes to libtorch comes from here (held forever; there are only a few distinct values) or from a
/// <c>using</c>-scoped local that outlives the call.
/// </summary>
public static class Scalars
{
    private static readonly ConcurrentDictionary<double, Scalar> Doubles = new();
    private static readonly ConcurrentDictionary<long, Scalar> Longs = new();

    /// <summary>A floating-point scalar that is never freed.</summary>
    public static Scalar Of(double value) => Doubles.GetOrAdd(value, v => v.ToScalar());

    /// <summary>An integer scalar that is never freed (keeps integer tensors integer).</summary>
    public static Scalar Of(long value) => Longs.GetOrAdd(value, v => v.ToScalar());
}
