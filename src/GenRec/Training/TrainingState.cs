using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Training;

/// <summary>
/// What a checkpoint holds after the weights so that a run resumes to the same weights as one never interrupted:
/// the optimiser's moments, the random-number generator, and the epoch under way (steps taken and their running
/// sums). The layout is written and read here only.
/// </summary>
internal sealed class TrainingState
{
    /// <summary>Steps taken in the epoch under way.</summary>
    public int Steps;

    /// <summary>Sum of their losses.</summary>
    public double LossSum;

    /// <summary>Non-padding tokens they trained on.</summary>
    public long Tokens;

    /// <summary>Seconds they took.</summary>
    public double Seconds;

    /// <summary>Each step's seconds (for the epoch's median).</summary>
    public List<double> StepTimes = [];

    /// <summary>Writes the optimiser, the generator and, for a checkpoint inside an epoch, this progress (else
    /// none).</summary>
    public void Write(BinaryWriter w, AdamW optimizer, bool midEpoch)
    {
        optimizer.SaveState(w);
        using var rng = get_rng_state();
        var bytes = rng.data<byte>().ToArray();
        w.Write(bytes.Length);
        w.Write(bytes);
        w.Write(midEpoch ? Steps : 0);
        w.Write(midEpoch ? LossSum : 0.0);
        w.Write(midEpoch ? Tokens : 0L);
        w.Write(midEpoch ? Seconds : 0.0);
        var times = midEpoch ? StepTimes : [];
        w.Write(times.Count);
        foreach (var x in times) w.Write(x);
    }

    /// <summary>Restores the optimiser and the generator, and returns the progress of the epoch under way.</summary>
    public static TrainingState Read(BinaryReader r, AdamW optimizer)
    {
        optimizer.LoadState(r);
        int n = r.ReadInt32();
        var rng = r.ReadBytes(n);
        if (rng.Length != n) throw new InvalidDataException("random-number generator state is truncated.");
        using (var state = tensor(rng, dtype: ScalarType.Byte)) set_rng_state(state);
        var progress = new TrainingState
        {
            Steps = r.ReadInt32(),
            LossSum = r.ReadDouble(),
            Tokens = r.ReadInt64(),
            Seconds = r.ReadDouble(),
        };
        int times = r.ReadInt32();
        for (int i = 0; i < times; i++) progress.StepTimes.Add(r.ReadDouble());
        return progress;
    }
}
