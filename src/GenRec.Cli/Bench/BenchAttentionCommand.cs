using System.CommandLine;
using System.Diagnostics;
using GenRec.Cli.Commands;
using GenRec.Model;
using GenRec.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Cli.Bench;

/// <summary>
/// <c>genrec bench attention</c>: one HSTU layer against one softmax-attention layer of the same width (the
/// SASRec/Transformer block's attention: LayerNorm, QKV projection, causal scaled-dot-product softmax attention,
/// output projection, residual), forward + backward, at growing sequence lengths with the tokens per batch fixed.
/// </summary>
internal static class BenchAttentionCommand
{
    public static Command Create()
    {
        var lengths = new Option<string>("--lengths") { Description = "Comma-separated sequence lengths.", DefaultValueFactory = _ => "256,512,1024,2048,4096" };
        var dim = new Option<int>("--dim") { Description = "Model width D.", DefaultValueFactory = _ => 64 };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 2 };
        var tokens = new Option<int>("--tokens") { Description = "Tokens per batch (batch = tokens / length, at least 1).", DefaultValueFactory = _ => 8192 };
        var repeats = new Option<int>("--repeats") { Description = "Timed repetitions (median reported) after one warm-up.", DefaultValueFactory = _ => 3 };
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("attention", "HSTU layer vs softmax-attention layer of the same width: forward + backward time per length, and the ratio.")
        {
            lengths, dim, heads, tokens, repeats, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            var ls = Options.IntList(r.GetValue(lengths)!, "--lengths");
            int d = r.GetValue(dim), h = r.GetValue(heads), reps = r.GetValue(repeats), perBatch = r.GetValue(tokens);
            if (d < 1 || h < 1 || d % h != 0 || reps < 1 || perBatch < 1) throw new ArgumentException("--dim must be a positive multiple of --heads; --repeats and --tokens positive.");
            bool asJson = r.GetValue(json);
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            var rows = new List<object>();
            foreach (int l in ls)
            {
                int b = Math.Max(1, perBatch / l);
                manual_seed(1);
                using var hstu = new HstuLayer(d, h, d / h, d / h, l, 0.0, 0.0);
                using var softmax = new SoftmaxAttentionLayer(d, h);
                hstu.to(dev);
                softmax.to(dev);
                using var rab = zeros(1, l, l, device: dev);
                using var valid = ones(b, l, 1, device: dev);
                // The training path: the causal mask folded into the bias as −1e9, on causal row blocks (what HstuEncoder runs).
                using var masked = zeros(1, l, l, device: dev).masked_fill_(ones(l, l, dtype: ScalarType.Bool, device: dev).triu(1), Scalars.Of(RelativeAttentionBias.Blocked));
                var blocks = HstuLayer.CausalRowBlocks(l).Select(k => masked.narrow(1, k.Start, k.Rows).narrow(2, 0, k.Start + k.Rows)).ToArray();
                double tHstu = Time(() => hstu.forward(Input(b, l, d, dev), rab, valid), reps);
                double tFused = Time(() => hstu.ForwardWithMaskedBias(Input(b, l, d, dev), blocks, valid), reps);
                foreach (var k in blocks) k.Dispose();
                double tSoftmax = Time(() => softmax.forward(Input(b, l, d, dev)), reps);
                rows.Add(new { length = l, batch = b, hstuMs = tHstu * 1000, hstuTrainingPathMs = tFused * 1000, softmaxMs = tSoftmax * 1000, speedup = tSoftmax / tHstu, speedupTrainingPath = tSoftmax / tFused });
                if (!asJson) Console.WriteLine($"length {l,5} × batch {b,3}: HSTU {tHstu * 1000,9:F1} ms   HSTU training path {tFused * 1000,9:F1} ms   softmax attention {tSoftmax * 1000,9:F1} ms   softmax / HSTU {tSoftmax / tHstu,5:F2}x, {tSoftmax / tFused,5:F2}x");
            }
            if (asJson) Cli.PrintJson(new { dim = d, heads = h, tokensPerBatch = perBatch, threads = get_num_threads(), results = rows });
            return 0;
        }));
        return cmd;
    }

    private static Tensor Input(int b, int l, int d, Device dev) => randn(b, l, d, device: dev).requires_grad_(true);

    /// <summary>Median seconds of forward + backward (sum of outputs) over <paramref name="reps"/> runs after one warm-up.</summary>
    private static double Time(Func<Tensor> forward, int reps)
    {
        var times = new List<double>();
        for (int i = 0; i <= reps; i++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var y = forward();
            y.sum().backward();
            if (i > 0) times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>The softmax baseline: x + W_o · softmax(QKᵀ/√d + causal) V over LN(x).</summary>
    private sealed class SoftmaxAttentionLayer : nn.Module<Tensor, Tensor>
    {
        private readonly LayerNorm _norm;
        private readonly Linear _qkv;
        private readonly Linear _out;
        private readonly int _heads;

        public SoftmaxAttentionLayer(int dim, int heads) : base(nameof(SoftmaxAttentionLayer))
        {
            _heads = heads;
            _norm = nn.LayerNorm(dim);
            _qkv = nn.Linear(dim, 3 * dim);
            _out = nn.Linear(dim, dim);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            long b = x.shape[0], l = x.shape[1], d = x.shape[2];
            var parts = _qkv.forward(_norm.forward(x)).view(b, l, 3, _heads, d / _heads).permute(2, 0, 3, 1, 4);
            var o = nn.functional.scaled_dot_product_attention(parts[0], parts[1], parts[2], is_casual: true);
            return x.Plus(_out.forward(o.transpose(1, 2).reshape(b, l, d)));   // Plus: TorchSharp's add leaves its alpha Scalar to the GC
        }
    }
}
