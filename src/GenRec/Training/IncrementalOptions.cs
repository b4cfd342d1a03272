namespace GenRec.Training;

/// <summary>How one incremental update runs (<c>genrec train --resume RUN --events SOURCE</c>).</summary>
public sealed record IncrementalOptions
{
    /// <summary>Passes over the new events (1: the paper's one-pass streaming setting).</summary>
    public int Passes { get; init; } = 1;

    /// <summary>Windows of earlier history mixed in per new window, so the model keeps what it knew (0: none).
    /// </summary>
    public double Replay { get; init; }

    /// <summary>Most new events one update takes (0: all of them); the rest wait for the next update.</summary>
    public int MaxEvents { get; init; }

    /// <summary>Steps between checkpoints inside an update (the update's end always writes one).</summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Where each finished update publishes its model (<c>model-WATERMARK.ckpt</c>), or null.</summary>
    public string? PublishDirectory { get; init; }

    /// <summary>Published models kept (older ones are removed).</summary>
    public int KeepPublished { get; init; } = 3;

    /// <summary>Overrides <see cref="Model.TrainingConfig.ItemCapacity"/> for this and later updates.</summary>
    public int? ItemCapacity { get; init; }

    /// <summary>Overrides <see cref="Model.TrainingConfig.MinItemEvents"/> for this and later updates.</summary>
    public int? MinItemEvents { get; init; }

    /// <summary>Checks the values, naming the option.</summary>
    public void Validate()
    {
        if (Passes < 1) throw new ArgumentException($"--passes {Passes}: expected 1 or more.");
        if (Replay < 0) throw new ArgumentException($"--replay {Replay}: expected 0 or more windows per new one.");
        if (MaxEvents < 0) throw new ArgumentException($"--max-events {MaxEvents}: expected 0 (all) or more.");
        if (CheckpointEvery < 1)
            throw new ArgumentException($"--checkpoint-every {CheckpointEvery}: expected 1 or more steps.");
        if (KeepPublished < 1) throw new ArgumentException($"--keep {KeepPublished}: expected 1 or more models.");
    }
}
