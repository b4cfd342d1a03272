namespace GenRec.Model;

/// <summary>Optimisation and evaluation settings. Defaults are the paper's ML-1M settings.</summary>
public sealed record TrainingConfig
{
    /// <summary>Passes over the training users.</summary>
    public int Epochs { get; init; } = 101;

    /// <summary>Users per step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>AdamW learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW β1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW β2.</summary>
    public double Beta2 { get; init; } = 0.98;

    /// <summary>AdamW decoupled weight decay.</summary>
    public double WeightDecay { get; init; } = 0.0;

    /// <summary>Negatives per supervised position R, drawn uniformly from the whole corpus, independently per position.</summary>
    public int NumNegatives { get; init; } = 128;

    /// <summary>Softmax temperature τ applied to cosine similarities.</summary>
    public double Temperature { get; init; } = 0.05;

    /// <summary>Seed for initialisation, shuffling, dropout and negatives.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Evaluate every this many epochs (the last epoch always is); 0 evaluates only at the end.</summary>
    public int EvalEvery { get; init; } = 1;

    /// <summary>Users per evaluation batch.</summary>
    public int EvalBatchSize { get; init; } = 256;

    /// <summary><c>test</c> (hold out the last item) or <c>validation</c> (hold out the second-to-last).</summary>
    public string Split { get; init; } = "test";

    /// <summary>Stochastic length α (paper §3.3); 0 = off. Histories longer than maxLength^(α/2) are mostly sub-sampled to that length.</summary>
    public double StochasticLengthAlpha { get; init; }

    /// <summary>
    /// Consecutive supervised positions that share one draw of R negatives; 1 (the default, the paper's and the
    /// reference's way) draws independently per position. With g &gt; 1 the logits are one batched product instead of a
    /// [positions, R, D] gather and its scatter in backward. See docs/results/performance.md for speed and quality.
    /// </summary>
    public int NegativesSharedBy { get; init; } = 1;

    /// <summary>
    /// Also write the run's checkpoint every this many steps within an epoch (0: only at each epoch's end), so that a
    /// crash costs at most this many steps.
    /// </summary>
    public int CheckpointEvery { get; init; }

    /// <summary>
    /// Model selection: empty (none; the last epoch is the model, the paper's and the official code's protocol) or a
    /// validation metric, <c>hr@10</c>, <c>ndcg@10</c>, <c>hr@50</c>, <c>ndcg@50</c>, <c>hr@200</c>, <c>ndcg@200</c> or
    /// <c>mrr</c>. With one, <see cref="Split"/> must be <c>validation</c> (training never sees the last two items);
    /// the run keeps the epoch with the best value on the validation item (<c>best.ckpt</c>) and reports the test
    /// item once, at that epoch (<c>selection.json</c>).
    /// </summary>
    public string SelectBy { get; init; } = "";

    /// <summary>
    /// With <see cref="SelectBy"/>: stop after this many evaluations in a row without a better validation value;
    /// 0 trains every epoch.
    /// </summary>
    public int Patience { get; init; }

    /// <summary>The metrics <see cref="SelectBy"/> accepts.</summary>
    public static readonly IReadOnlyList<string> SelectionMetrics =
        ["hr@10", "ndcg@10", "hr@50", "ndcg@50", "hr@200", "ndcg@200", "mrr"];

    /// <summary>Whether the run selects an epoch on validation (<see cref="SelectBy"/>).</summary>
    public bool Selects => SelectBy.Length > 0;

    /// <summary>
    /// Incremental training (<c>genrec train --resume RUN --events SOURCE</c>): the most rows the item table may hold
    /// (0: no bound). When new items would pass it, items first seen after the base training that were seen least
    /// recently are evicted and their rows handed over; the dataset's own items are never evicted.
    /// </summary>
    public int ItemCapacity { get; init; }

    /// <summary>
    /// Incremental training: an item first seen after the base training gets a row once it has this many events (its
    /// earlier events count; until then they are left out of the sequences).
    /// </summary>
    public int MinItemEvents { get; init; } = 1;

    /// <summary>
    /// Negatives drawn from each position's place in the epoch (seed, epoch, example, position) instead of the
    /// process's generator, so that training on N ranks (mpirun) takes the same steps as on one; needs
    /// <see cref="NegativesSharedBy"/> 1. Training under mpirun requires it.
    /// </summary>
    public bool ExampleSeeded { get; init; }

    /// <summary>
    /// Under mpirun, how the item table's gradient is summed over the ranks: "dense" (with the other parameters, in
    /// the all-reduce), "sparse" (each rank's non-zero rows and their ids, all-gathered and added), or "auto" (sparse
    /// when the rows all ranks touched move fewer bytes than a ring all-reduce of the whole table).
    /// </summary>
    public string ItemGradientExchange { get; init; } = "auto";

    /// <summary>Under mpirun, the largest all-reduce of dense gradients in MiB: parameters in backward order are
    /// summed in buckets of about this size (bounded extra memory; one call per bucket).</summary>
    public double AllreduceBucketMiB { get; init; } = 25;

    /// <summary>
    /// Under mpirun, partitions the item table and its optimiser moments across the ranks (item id mod N): each rank
    /// holds 1/N of them, fetches the rows its batch needs by all-to-all and returns their gradients to the owners.
    /// </summary>
    public bool ShardItems { get; init; }

    /// <summary>Checks the values and throws a message naming the field.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"training.epochs is {Epochs}; expected a positive integer.");
        if (BatchSize < 1) throw new ArgumentException($"training.batchSize is {BatchSize}; expected a positive integer.");
        if (StochasticLengthAlpha != 0 && StochasticLengthAlpha is < 1 or > 2) throw new ArgumentException($"training.stochasticLengthAlpha is {StochasticLengthAlpha}; expected 0 (off) or 1 ≤ α ≤ 2.");
        if (CheckpointEvery < 0) throw new ArgumentException($"training.checkpointEvery is {CheckpointEvery}; expected 0 (epoch ends only) or a positive number of steps.");
        if (NegativesSharedBy < 1) throw new ArgumentException($"training.negativesSharedBy is {NegativesSharedBy}; expected a positive number of positions (1 = independent negatives).");
        if (!(LearningRate > 0)) throw new ArgumentException($"training.learningRate is {LearningRate}; expected a positive number.");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) throw new ArgumentException("training.beta1 and training.beta2 must lie in [0, 1).");
        if (WeightDecay < 0) throw new ArgumentException($"training.weightDecay is {WeightDecay}; expected ≥ 0.");
        if (NumNegatives < 1) throw new ArgumentException($"training.numNegatives is {NumNegatives}; expected a positive integer.");
        if (!(Temperature > 0)) throw new ArgumentException($"training.temperature is {Temperature}; expected a positive number.");
        if (EvalEvery < 0) throw new ArgumentException($"training.evalEvery is {EvalEvery}; expected ≥ 0.");
        if (ExampleSeeded && NegativesSharedBy != 1)
            throw new ArgumentException($"training.exampleSeeded draws negatives per position; training."
                + $"negativesSharedBy is {NegativesSharedBy}, expected 1 with it.");
        if (ItemGradientExchange is not ("auto" or "dense" or "sparse"))
            throw new ArgumentException($"training.itemGradientExchange is '{ItemGradientExchange}'; expected auto, "
                + "dense or sparse.");
        if (!(AllreduceBucketMiB > 0))
            throw new ArgumentException($"training.allreduceBucketMiB is {AllreduceBucketMiB}; expected a positive "
                + "size in MiB.");
        if (ItemCapacity < 0)
            throw new ArgumentException($"training.itemCapacity is {ItemCapacity}; expected 0 (no bound) or rows.");
        if (MinItemEvents < 1)
            throw new ArgumentException($"training.minItemEvents is {MinItemEvents}; expected 1 or more events.");
        if (EvalBatchSize < 1) throw new ArgumentException($"training.evalBatchSize is {EvalBatchSize}; expected a positive integer.");
        ParseSplit(Split);
        if (Selects && !SelectionMetrics.Contains(SelectBy.ToLowerInvariant()))
            throw new ArgumentException($"training.selectBy is '{SelectBy}'; expected one of "
                + $"{string.Join(", ", SelectionMetrics)} (or empty: no selection).");
        if (Selects && ParseSplit(Split) != Data.EvalSplit.Validation)
            throw new ArgumentException($"training.selectBy is '{SelectBy}' with training.split '{Split}': selecting "
                + "an epoch on the test item would report a chosen, not a held-out, result; set training.split to "
                + "validation (genrec train --select-by does).");
        if (Patience < 0)
            throw new ArgumentException($"training.patience is {Patience}; expected ≥ 0 (0: no early stop).");
        if (Patience > 0 && !Selects)
            throw new ArgumentException($"training.patience is {Patience} without training.selectBy; early stopping "
                + "needs a validation metric to watch.");
        if (Patience > 0 && EvalEvery == 0)
            throw new ArgumentException(
                "training.patience needs training.evalEvery ≥ 1 (validation during training).");
    }

    /// <summary>Parses <see cref="Split"/>.</summary>
    public static Data.EvalSplit ParseSplit(string split) => split.ToLowerInvariant() switch
    {
        "test" => Data.EvalSplit.Test,
        "validation" or "valid" or "val" => Data.EvalSplit.Validation,
        _ => throw new ArgumentException($"training.split is '{split}'; expected test or validation."),
    };
}
