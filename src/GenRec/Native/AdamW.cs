using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Native;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter), the same update as <c>torch.optim.AdamW</c>. GenRec has its own because
/// TorchSharp 0.107's passes implicitly converted scalars to libtorch, which the GC may free mid-call (see
/// <see cref="Scalars"/>); here every scalar outlives the call that uses it.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly Parameter[] _params;
    private readonly Tensor[] _m, _v;
    private readonly double _lr, _beta1, _beta2, _eps, _weightDecay;

    /// <summary>Creates the optimiser over <paramref name="parameters"/>.</summary>
    public AdamW(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2, double weightDecay, double eps = 1e-8)
    {
        _params = parameters.ToArray();
        _m = _params.Select(p => zeros_like(p)).ToArray();
        _v = _params.Select(p => zeros_like(p)).ToArray();
        (_lr, _beta1, _beta2, _eps, _weightDecay) = (lr, beta1, beta2, eps, weightDecay);
    }

    /// <summary>Steps taken.</summary>
    public long StepCount { get; private set; }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _params)
        {
            using var g = p.grad;
            g?.zero_();
        }
    }

    /// <summary>One update: decoupled decay, then Adam with bias correction.</summary>
    public void Step()
    {
        StepCount++;
        using var _ = no_grad();
        double bc1 = 1 - Math.Pow(_beta1, StepCount), bc2 = 1 - Math.Pow(_beta2, StepCount);
        using var decay = (1 - _lr * _weightDecay).ToScalar();
        using var beta1 = _beta1.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var sqrtBc2 = Math.Sqrt(bc2).ToScalar();
        using var eps = _eps.ToScalar();
        using var stepSize = (-_lr / bc1).ToScalar();
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i];
            using var g = p.grad;
            if (g is null) continue;
            if (_weightDecay != 0) p.mul_(decay);
            _m[i].mul_(beta1).add_(g, alpha: oneMinusBeta1);
            _v[i].mul_(beta2).addcmul_(g, g, value: oneMinusBeta2);
            using var denom = _v[i].sqrt().div_(sqrtBc2).add_(eps);
            p.addcdiv_(_m[i], denom, value: stepSize);
        }
    }

    /// <summary>
    /// Index of the first parameter whose gradient holds NaN or ±∞, or −1 when every gradient is finite (parameters
    /// without a gradient are skipped).
    /// </summary>
    public int FirstNonFiniteGradient()
    {
        // One synchronisation per step: any NaN or ±∞ makes the sum of all gradient sums non-finite. Only then is
        // each parameter looked at, to name it.
        using (var scope = NewDisposeScope())
        {
            Tensor? total = null;
            foreach (var p in _params)
            {
                using var g = p.grad;
                if (g is null) continue;
                var sum = g.sum();
                total = total is null ? sum : total.Plus(sum);
            }
            if (total is null || double.IsFinite(total.item<float>())) return -1;
        }
        for (int i = 0; i < _params.Length; i++)
        {
            using var g = _params[i].grad;
            if (g is null) continue;
            using var finite = g.isfinite().all();
            if (!finite.item<bool>()) return i;
        }
        return -1;
    }

    /// <summary>
    /// Puts <paramref name="grown"/> in place of parameter number <paramref name="index"/> (a table that gained rows at
    /// its end): the moments of the old rows are kept, the new rows start from zero, as a row not trained yet.
    /// </summary>
    public void Replace(int index, Parameter grown)
    {
        int i = index;
        if (i < 0 || i >= _params.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"this optimiser updates {_params.Length} parameters.");
        long have = _m[i].shape[0];
        if (grown.dim() != _m[i].dim() || grown.shape[0] < have)
            throw new ArgumentException($"the grown parameter has shape [{string.Join(", ", grown.shape)}]; "
                + $"expected at least {have} rows of the old shape.", nameof(grown));
        using var _ = no_grad();
        foreach (var moments in new[] { _m, _v })
        {
            var padded = zeros_like(grown);
            padded.narrow(0, 0, have).copy_(moments[i]);
            moments[i].Dispose();
            moments[i] = padded;
        }
        _params[i] = grown;
    }

    /// <summary>Clears both moments of rows <paramref name="rows"/> of parameter number <paramref name="index"/> (a
    /// row handed to a new item).</summary>
    public void ResetRows(int index, long[] rows)
    {
        int i = index;
        if (i < 0 || i >= _params.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"this optimiser updates {_params.Length} parameters.");
        if (rows.Length == 0) return;
        using var _ = no_grad();
        using var at = tensor(rows, device: _m[i].device);
        var zero = Scalars.Of(0.0);
        _m[i].index_fill_(0, at, zero);
        _v[i].index_fill_(0, at, zero);
    }

    /// <summary>Writes the step count and both moment estimates (float32, in parameter order) for an exact resume.</summary>
    public void SaveState(BinaryWriter w)
    {
        w.Write(StepCount);
        w.Write(_params.Length);
        foreach (var t in _m.Concat(_v))
        {
            using var cpu = t.detach().cpu().contiguous();
            var values = cpu.data<float>().ToArray();
            w.Write(values.Length);
            w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }
    }

    /// <summary>Restores what <see cref="SaveState"/> wrote; the parameters must have the same shapes and order.</summary>
    public void LoadState(BinaryReader r)
    {
        long steps = r.ReadInt64();
        int n = r.ReadInt32();
        if (n != _params.Length) throw new InvalidDataException($"optimiser state holds {n} parameters; the model has {_params.Length}.");
        using var _ = no_grad();
        foreach (var t in _m.Concat(_v))
        {
            int count = r.ReadInt32();
            if (count != t.NumberOfElements) throw new InvalidDataException($"optimiser state: a tensor of {count} values where the model has {t.NumberOfElements}.");
            var values = new float[count];
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
            if (r.Read(bytes) != bytes.Length) throw new InvalidDataException("optimiser state is truncated.");
            using var src = tensor(values, t.shape, device: t.device);
            t.copy_(src);
        }
        StepCount = steps;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _m.Concat(_v)) t.Dispose();
    }
}
