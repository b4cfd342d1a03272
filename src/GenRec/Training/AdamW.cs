using GenRec.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Training;

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

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _m.Concat(_v)) t.Dispose();
    }
}
