using static GenRec.Native.SplitMix64;
using static TorchSharp.torch;

namespace GenRec.Native;

/// <summary>
/// Dropout masks drawn from the place of each token in the epoch rather than from the process's generator: while a
/// scope is open (<see cref="Begin"/>), <see cref="FastDropout"/> keeps element k of the token at position i of the
/// example at index e of epoch t's plan, at the s-th dropout of the forward pass, when a SplitMix64 hash of
/// (seed, epoch, s, e, i, k) maps to a uniform value ≥ p. The mask of an example then depends neither on the rank
/// that trains it nor on the other examples packed with it, so N ranks with batches of B / N take the same steps as
/// one process with B (MpiTests). Applies to dropouts of token-shaped tensors [rows, width, features]; attention
/// dropout ([rows, heads, width, width]) is not covered.
/// </summary>
public sealed class ExampleSeededDropout : IDisposable
{
    [ThreadStatic] private static ExampleSeededDropout? _current;

    private readonly ExampleSeededDropout? _previous;
    private readonly ulong _key;
    private readonly long[] _example;
    private readonly int[] _position;
    private readonly long _rows, _width;
    private ulong _site;

    private ExampleSeededDropout(ulong key, long[] example, int[] position, long rows, long width)
    {
        (_key, _example, _position, _rows, _width) = (key, example, position, rows, width);
        _previous = _current;
        _current = this;
    }

    /// <summary>The open scope on this thread, if any.</summary>
    public static ExampleSeededDropout? Current => _current;

    /// <summary>
    /// Opens a scope for one forward pass over a packed batch of <paramref name="rows"/> × <paramref name="width"/>
    /// slots: slot j holds position <paramref name="position"/>[j] of example <paramref name="example"/>[j] (-1:
    /// padding, always dropped).
    /// </summary>
    public static ExampleSeededDropout Begin(int seed, int epoch, long[] example, int[] position, long rows,
        long width)
    {
        if (example.Length != rows * width || position.Length != example.Length)
            throw new ArgumentException($"{example.Length} slot examples and {position.Length} slot positions for "
                + $"{rows} × {width} slots.");
        return new ExampleSeededDropout(Mix(Mix((ulong)seed) ^ (ulong)epoch), example, position, rows, width);
    }

    /// <summary>The inverted-dropout multiplier for <paramref name="x"/> [rows, width, features]: 1/(1 − p) where
    /// kept, 0 where dropped.</summary>
    public Tensor Mask(Tensor x, double p)
    {
        if (x.dim() != 3 || x.shape[0] != _rows || x.shape[1] != _width)
            throw new InvalidOperationException($"example-seeded dropout of a tensor of shape [{string.Join(", ",
                x.shape)}]: expected [{_rows}, {_width}, features] (token-shaped; attention dropout is not covered).");
        long features = x.shape[2];
        ulong site = Mix(_key ^ _site++);
        float keep = (float)(1.0 / (1.0 - p));
        // Uniform u in [0, 1) from the top 53 bits; kept when u ≥ p, as FastDropout's rand-based mask.
        ulong threshold = (ulong)Math.Ceiling(p * (1UL << 53));
        var mask = new float[_example.Length * features];
        Parallel.For(0, _example.Length, slot =>
        {
            if (_example[slot] < 0) return;
            ulong token = Mix(Mix(site ^ (ulong)_example[slot]) ^ (ulong)_position[slot]);
            long at = slot * features;
            for (long k = 0; k < features; k++)
                if (Mix(token + (ulong)k) >> 11 >= threshold) mask[at + k] = keep;
        });
        return tensor(mask, [_rows, _width, features], dtype: x.dtype, device: x.device);
    }

    /// <inheritdoc />
    public void Dispose() => _current = _previous;
}
