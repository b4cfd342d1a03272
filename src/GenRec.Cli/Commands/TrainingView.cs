using GenRec.Training;
using Spectre.Console;

namespace GenRec.Cli.Commands;

/// <summary>Runs a trainer under a progress bar (step, loss, steps/s, ETA) and prints one line per epoch.</summary>
internal static class TrainingView
{
    public static IReadOnlyList<EpochResult> Run(Trainer trainer, bool json)
    {
        // Ctrl+C or SIGTERM: finish the current step, write a checkpoint of it, exit (the trainer does the writing).
        using var cancel = new CancellationTokenSource();
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            if (!cancel.IsCancellationRequested) Console.Error.WriteLine("SIGTERM: stopping after this step and writing a checkpoint…");
            cancel.Cancel();
        });
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cancel.IsCancellationRequested) return; // a second Ctrl+C ends the process at once
            e.Cancel = true;
            cancel.Cancel();
            Console.Error.WriteLine("stopping after this step and writing a checkpoint (Ctrl+C again to abort now)…");
        };
        Console.CancelKeyPress += onCancel;
        try { return RunCore(trainer, json, cancel.Token); }
        finally { Console.CancelKeyPress -= onCancel; }
    }

    private static IReadOnlyList<EpochResult> RunCore(Trainer trainer, bool json, CancellationToken token)
    {
        IReadOnlyList<EpochResult> results = [];
        trainer.EpochCompleted = r =>
        {
            var line = $"epoch {r.Epoch,3}  loss {r.TrainLoss:F4}  {r.TrainSeconds:F1}s  {r.TokensPerSecond:N0} tok/s";
            if (r.Metrics is { } m) line += $"  HR@10 {m.Hr10:F4}  NDCG@10 {m.Ndcg10:F4}  HR@200 {m.Hr200:F4}  MRR {m.Mrr:F4}  (eval {r.EvalSeconds:F1}s)";
            // Under a live progress bar, lines must go through the same console so they print above it.
            if (Cli.Err.Profile.Capabilities.Interactive) Cli.Err.WriteLine(line);
            else (json ? Console.Error : Console.Out).WriteLine(line);
        };
        if (!Cli.Err.Profile.Capabilities.Interactive)
        {
            // No terminal (CI, a log file): per-epoch lines are the progress.
            return trainer.Run(token);
        }
        Cli.Err.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                trainer.Progress = new Reporter(p =>
                {
                    task ??= ctx.AddTask("training", maxValue: (double)p.Epochs * Math.Max(p.Steps, 1));
                    if (p.Phase == "eval") { task.Description = $"epoch {p.Epoch}/{p.Epochs} evaluating"; return; }
                    task.MaxValue = (double)p.Epochs * p.Steps;
                    task.Value = (double)(p.Epoch - 1) * p.Steps + p.Step;
                    task.Description = $"epoch {p.Epoch}/{p.Epochs} step {p.Step}/{p.Steps} loss {p.Loss:F4} {p.StepsPerSecond:F2} steps/s";
                });
                results = trainer.Run(token);
            });
        return results;
    }

    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
