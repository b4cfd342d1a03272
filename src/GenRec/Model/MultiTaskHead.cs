using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// The ranking head: one logit per task from the encoder output at an item token. As in the public reference, the
/// input is the encoder output times the item's embedding (so the item meets the history once more), then
/// Linear → SiLU-gated LayerNorm → Linear: z = W₁x split into (a, g), h = LN(a) ⊙ SiLU(g), logits = W₂h.
/// </summary>
public sealed class MultiTaskHead : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear _in;
    private readonly Linear _out;
    private readonly int _hidden;

    /// <summary>A head from width <paramref name="dim"/> through <paramref name="hidden"/> units to <paramref name="tasks"/> logits.</summary>
    public MultiTaskHead(int dim, int hidden, int tasks) : base(nameof(MultiTaskHead))
    {
        if (tasks < 1) throw new ArgumentOutOfRangeException(nameof(tasks), tasks, "at least one task.");
        _hidden = hidden;
        _in = nn.Linear(dim, 2 * hidden);
        _out = nn.Linear(hidden, tasks);
        RegisterComponents();
    }

    /// <summary>The output layer (one logit per task).</summary>
    internal Linear Output => _out;

    /// <summary>Logits [P, T] from encoder outputs [P, D] and the items' embeddings [P, D].</summary>
    public override Tensor forward(Tensor encoded, Tensor items)
    {
        using var scope = NewDisposeScope();
        var z = _in.forward(encoded * items);
        var parts = z.split([_hidden, _hidden], dim: -1);
        var h = nn.functional.layer_norm(parts[0], [_hidden], eps: 1e-6) * nn.functional.silu(parts[1]);
        return _out.forward(h).MoveToOuterDisposeScope();
    }
}
