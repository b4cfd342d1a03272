using System.CommandLine;
using GenRec.Evaluation;
using GenRec.Model;

namespace GenRec.Cli.Commands;

/// <summary><c>genrec eval</c>: full-corpus HR / NDCG / MRR of a checkpoint, beside the most-popular baseline.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var ckpt = Options.Checkpoint();
        var data = Options.Data();
        var split = new Option<string?>("--split") { Description = "test (last item) or validation (second-to-last); default: the checkpoint's." };
        var targets = new Option<string>("--targets") { Description = "all (the paper's protocol), or non-negative: only users whose held-out item was not negative feedback (prepared data with actions).", DefaultValueFactory = _ => "all" };
        var force = new Option<bool>("--force")
        {
            Description = "Evaluate on the validation item even when the model trained on it (training.split test).",
        };
        var json = Options.Json();
        var device = Options.Device();
        var threads = Options.Threads();
        var cmd = new Command("eval", "Evaluate a checkpoint on the leave-one-out split over the full item corpus (HR, NDCG at 10/50/200, MRR).")
        {
            ckpt, data, split, targets, force, device, threads, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            bool asJson = r.GetValue(json);
            var dev = Cli.Setup(r.GetValue(device)!, r.GetValue(threads));
            var (info, model, dataset) = Cli.LoadModelAndData(r.GetValue(ckpt)!, r.GetValue(data)!, dev, asJson);
            using var _ = model;
            var which = TrainingConfig.ParseSplit(r.GetValue(split) ?? info.Config.Training.Split);
            // A model trained with training.split=test held out only the last item: the validation item was a
            // training target, so its validation metrics flatter it.
            if (which == GenRec.Data.EvalSplit.Validation && TrainingConfig.ParseSplit(info.Config.Training.Split)
                == GenRec.Data.EvalSplit.Test && !r.GetValue(force))
                throw new ArgumentException($"--split validation: {r.GetValue(ckpt)} was trained with "
                    + "training.split=test, so it trained on every validation item and its validation metrics would "
                    + "be inflated; use --split test, train with --set training.split=validation, or add --force.");
            var loo = dataset.Split(info.Config.Model.MaxLength, which, info.Config.Features);
            foreach (var note in loo.Notes) Cli.Note("note: " + note);
            var cases = r.GetValue(targets) switch
            {
                "all" => loo.Eval,
                "non-negative" => loo.Eval.Where(e => e.TargetFeedback != GenRec.Data.Features.Feedback.Negative).ToList(),
                var other => throw new ArgumentException($"--targets {other}: expected all or non-negative."),
            };
            if (cases.Count < loo.Eval.Count) Cli.Note($"evaluating {cases.Count:N0} of {loo.Eval.Count:N0} users (held-out item not negative feedback)");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var metrics = Evaluator.Evaluate(model, cases, dataset.Corpus, dev, info.Config.Training.EvalBatchSize);
            double secs = clock.Elapsed.TotalSeconds;
            var pop = PopularityBaseline.Evaluate(cases, dataset.Corpus, PopularityBaseline.Counts(loo.Train));
            if (asJson) Cli.PrintJson(new { checkpoint = r.GetValue(ckpt), dataset = dataset.Name, split = which.ToString().ToLowerInvariant(), epoch = info.Epoch, evalSeconds = secs, metrics, popularity = pop });
            else
            {
                Spectre.Console.AnsiConsole.Write(Cli.MetricsTable(($"{info.Config.Name} (epoch {info.Epoch})", metrics), ("most popular", pop)));
                Console.WriteLine($"{metrics.Users:N0} users, {dataset.Corpus.Length:N0} items, {which.ToString().ToLowerInvariant()} split, {secs:F1}s");
            }
            return 0;
        }));
        return cmd;
    }
}
