using System.Diagnostics;
using GenRec.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Training;

/// <summary>
/// Sums the gradients of a data-parallel step over the MPI ranks, so that every rank takes the same optimiser step.
/// Dense parameters go in all-reduces of at most <see cref="BucketBytes"/>, in backward order. The item table's
/// gradient, which a batch touches in only some rows, is either all-reduced with them or exchanged sparsely: each
/// rank's non-zero rows and their ids are all-gathered and added in rank order. "auto" picks sparse when the rows all
/// ranks touched (Σk·(4D + 8) bytes reach each rank) are fewer bytes than a ring all-reduce moves per rank for the
/// whole table (2(N − 1)/N · 4·rows·D).
/// </summary>
internal sealed class GradientExchange(IReadOnlyList<Parameter> parameters, int itemTable, string itemMode,
    long bucketBytes)
{
    /// <summary>The most bytes one dense all-reduce carries.</summary>
    public long BucketBytes { get; } = bucketBytes;

    /// <summary>Seconds spent in MPI calls so far.</summary>
    public double Seconds { get; private set; }

    /// <summary>Bytes each rank sent or received in the last step's exchange (dense: the ring all-reduce's
    /// 2(N − 1)/N of the buffer; sparse: the rows and ids gathered from the other ranks).</summary>
    public long BytesLastStep { get; private set; }

    /// <summary>Whether the last step exchanged the item table sparsely.</summary>
    public bool SparseLastStep { get; private set; }

    /// <summary>All-reduce calls in the last step (buckets, and the item exchange's).</summary>
    public int CallsLastStep { get; private set; }

    /// <summary>Sums every parameter's gradient over the ranks, in place.</summary>
    public void Run()
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        int n = Mpi.Size;
        var present = parameters.Select(p => p.grad is null ? 0L : 1L).ToArray();
        var agreed = (long[])present.Clone();
        Mpi.AllreduceSum(agreed.AsSpan());
        for (int i = 0; i < present.Length; i++)
            if (agreed[i] != present[i] * n)
                throw new InvalidOperationException($"parameter #{i} has a gradient on {agreed[i]} of {n} ranks; "
                    + "every rank must train on some windows of every batch.");
        BytesLastStep = 0;
        CallsLastStep = 0;
        SparseLastStep = false;
        var dense = new List<Tensor>();
        if (itemTable >= 0 && parameters[itemTable].grad is { } items)
        {
            if (!ExchangeSparse(items)) dense.Add(items);
        }
        // Backward produces gradients from the last layer to the first: buckets follow that order.
        for (int i = parameters.Count - 1; i >= 0; i--)
            if (i != itemTable && parameters[i].grad is { } g) dense.Add(g);
        var bucket = new List<Tensor>();
        long bytes = 0;
        foreach (var g in dense)
        {
            long size = g.NumberOfElements * sizeof(float);
            if (bucket.Count > 0 && bytes + size > BucketBytes) { AllreduceBucket(bucket); bucket.Clear(); bytes = 0; }
            bucket.Add(g);
            bytes += size;
        }
        if (bucket.Count > 0) AllreduceBucket(bucket);
        Seconds += clock.Elapsed.TotalSeconds;
    }

    private void AllreduceBucket(List<Tensor> grads)
    {
        using var scope = NewDisposeScope();
        var flat = cat(grads.Select(g => g.reshape(-1)).ToList(), 0).cpu().contiguous();
        var values = flat.data<float>().ToArray();
        Mpi.AllreduceSum(values.AsSpan());
        BytesLastStep += RingBytes(values.LongLength * sizeof(float));
        CallsLastStep++;
        using var summed = tensor(values, device: grads[0].device);
        using var noGrad = no_grad();
        long offset = 0;
        foreach (var g in grads)
        {
            g.copy_(summed.narrow(0, offset, g.NumberOfElements).view_as(g));
            offset += g.NumberOfElements;
        }
    }

    /// <summary>Bytes a ring all-reduce of <paramref name="bytes"/> sends (and receives) per rank.</summary>
    private static long RingBytes(long bytes) => 2 * (Mpi.Size - 1) * bytes / Mpi.Size;

    /// <summary>Exchanges the touched rows of <paramref name="grad"/> when that is the mode (or cheaper, under auto);
    /// returns whether it did.</summary>
    private bool ExchangeSparse(Tensor grad)
    {
        if (itemMode == "dense") return false;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long d = grad.shape[1];
        var rows = grad.ne(Scalars.Of(0.0f)).any(1).nonzero().reshape(-1).cpu().contiguous();
        var ids = rows.data<long>().ToArray();
        var touched = new[] { (long)ids.Length };
        Mpi.AllreduceSum(touched.AsSpan());
        long sparseBytes = touched[0] * (4 * d + 8);
        if (itemMode == "auto" && sparseBytes >= RingBytes(grad.NumberOfElements * sizeof(float))) return false;
        var mine = grad.index_select(0, rows.to(grad.device)).cpu().contiguous().data<float>().ToArray();
        var allIds = Mpi.AllgatherV<long>(ids);
        var allRows = Mpi.AllgatherV<float>(mine);
        BytesLastStep += (allIds.LongLength - ids.Length) * 8 + (allRows.LongLength - mine.Length) * 4;
        CallsLastStep += 3;
        grad.zero_();
        using var values = tensor(allRows, [allIds.Length, d], device: grad.device);
        grad.index_add_(0, tensor(allIds, device: grad.device), values, Scalars.Of(1.0));
        SparseLastStep = true;
        return true;
    }
}
