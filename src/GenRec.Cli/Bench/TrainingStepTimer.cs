using System.Diagnostics;
using GenRec.Training;

namespace GenRec.Cli.Bench;

/// <summary>
/// Times a trainer's steps for <c>genrec bench train</c> and <c>genrec bench scaling</c>: the batches of epoch 1 (and
/// later ones as needed), the model training as it would, optionally with the time of each phase of a step.
/// </summary>
internal static class TrainingStepTimer
{
    /// <summary>Names of the phases, in <see cref="StepPhase"/> order.</summary>
    public static readonly string[] PhaseNames =
    [
        "batch building", "encoder forward", "loss forward (sampled softmax)", "backward (encoder + loss)",
        "optimiser step",
    ];

    /// <summary>
    /// Seconds, non-padding tokens and padded tokens (B × width) of <paramref name="steps"/> steps after
    /// <paramref name="warmup"/> untimed ones; with <paramref name="phaseSeconds"/>, the seconds per phase of all of
    /// them.
    /// </summary>
    public static List<(double Seconds, long Tokens, long PaddedTokens)> TimeSteps(
        Trainer trainer, int warmup, int steps, double[]? phaseSeconds = null)
    {
        long mark = 0;
        if (phaseSeconds is not null)
            trainer.PhaseEnded = phase =>
            {
                long now = Stopwatch.GetTimestamp();
                phaseSeconds[(int)phase] += Stopwatch.GetElapsedTime(mark, now).TotalSeconds;
                mark = now;
            };
        try
        {
            trainer.Model.train();
            var result = new List<(double, long, long)>(steps);
            int epoch = 1, i = 0;
            var batches = trainer.EpochBatches(epoch);
            for (int n = 0; n < warmup + steps; n++)
            {
                if (i == batches.Count) { batches = trainer.EpochBatches(++epoch); i = 0; }
                var clock = Stopwatch.StartNew();
                mark = Stopwatch.GetTimestamp();
                trainer.TrainStep(batches[i], i, epoch, out long tokens, out long padded);
                i++;
                if (n >= warmup) result.Add((clock.Elapsed.TotalSeconds, tokens, padded));
            }
            return result;
        }
        finally { trainer.PhaseEnded = null; }
    }
}
