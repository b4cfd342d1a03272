using System.CommandLine;
using GenRec.Cli.Commands;
using GenRec.Model;
using GenRec.Training;

namespace GenRec.Cli.Bench;

/// <summary>
/// <c>genrec bench train</c>: times training steps of a config on a dataset, measured as the performance yardstick
/// is: median seconds per step after warm-up, non-padding tokens per second, the share of padding, peak memory.
/// </summary>
internal static class BenchTrainCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "Experiment config JSON, for example configs/ml-1m/hstu.json.", Required = true };
        var data = Options.Data();
        var steps = new Option<int>("--steps") { Description = "Timed steps.", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first.", DefaultValueFactory = _ => 3 };
        var set = new Option<string[]>("--set") { Description = "Override any config value (repeatable), e.g. --set training.negativesSharedBy=32." };
        var profile = new Option<bool>("--profile") { Description = "Also print where the step time goes (batch building, forward, loss, backward, optimiser)." };
        var skipBad = Options.SkipBadRows();
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("train", "Time training steps: median seconds per step, non-padding tokens per second, padding share, peak memory.")
        {
            config, data, skipBad, steps, warmup, set, profile, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            int n = r.GetValue(steps), w = r.GetValue(warmup);
            if (n < 1 || w < 0) throw new ArgumentException("--steps must be positive and --warmup at least 0.");
            var cfg = ExperimentConfig.Load(r.GetValue(config), r.GetValue(set) ?? []);
            bool asJson = r.GetValue(json);
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            var dataset = Cli.LoadData(r.GetValue(data)!, asJson, r.GetValue(skipBad));
            using var _ = dataset as IDisposable;
            using var trainer = new Trainer(cfg, dataset, dev);
            var phases = r.GetValue(profile) ? new double[TrainingStepTimer.PhaseNames.Length] : null;
            var times = TrainingStepTimer.TimeSteps(trainer, w, n, phases);
            var sorted = times.Select(x => x.Seconds).Order().ToArray();
            double median = sorted[sorted.Length / 2], total = sorted.Sum();
            long tokens = times.Sum(x => x.Tokens), padded = times.Sum(x => x.PaddedTokens);
            var summary = new
            {
                config = cfg.Name,
                dataset = dataset.Name,
                encoder = cfg.Model.Encoder,
                batchSize = cfg.Training.BatchSize,
                negativesSharedBy = cfg.Training.NegativesSharedBy,
                threads = TorchSharp.torch.get_num_threads(),
                steps = n,
                medianStepSeconds = median,
                tokensPerSecond = tokens / total,
                tokensPerStep = (double)tokens / n,
                paddingShare = 1 - (double)tokens / padded,
                peakMemoryMiB = Trainer.PeakMemoryMiB(),
                phasesSeconds = phases is null ? null : TrainingStepTimer.PhaseNames.Zip(phases).ToDictionary(p => p.First, p => p.Second),
            };
            if (asJson) { Cli.PrintJson(summary); return 0; }
            Console.WriteLine($"{cfg.Name} on {dataset.Name} ({cfg.Model.Encoder}, batch {cfg.Training.BatchSize}, negativesSharedBy {cfg.Training.NegativesSharedBy}, {summary.threads} threads), {n} steps after {w} warm-up:");
            if (phases is not null)
            {
                // The phases include the warm-up steps; shares are what matter.
                double all = phases.Sum();
                foreach (var (name, secs) in TrainingStepTimer.PhaseNames.Zip(phases)) Console.WriteLine($"  {name,-32} {secs / all,6:P1}");
            }
            Console.WriteLine($"  median {median:F3} s/step   {summary.tokensPerSecond:N0} non-padding tokens/s   {summary.tokensPerStep:N0} tokens/step   padding {summary.paddingShare:P1}   peak RSS {summary.peakMemoryMiB:N0} MiB");
            return 0;
        }));
        return cmd;
    }
}
