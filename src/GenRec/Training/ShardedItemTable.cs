using System.Diagnostics;
using GenRec.Model;
using GenRec.Native;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace GenRec.Training;

/// <summary>
/// The item table and its AdamW moments partitioned across the MPI ranks (<see cref="TrainingConfig.ShardItems"/>):
/// rank r of N owns the rows of ids ≡ r (mod N), 1/N of the table, and takes their optimiser steps. A step fetches
/// the rows its batch needs from their owners (one all-to-all of ids, one of rows), trains on them as a small table
/// of its own, and returns their gradients to the owners (one all-to-all), who sum what every rank sent. Every row of
/// every shard then takes the step the replicated table's row takes (decay and moments included), so the weights are
/// those of the replicated model (ShardedItemTableTests, MpiTests). On one process the one shard is the whole table.
/// </summary>
internal sealed class ShardedItemTable : IDisposable
{
    private readonly int _ranks, _rank;
    private readonly Parameter _shard;
    private readonly AdamW _optimizer;
    private readonly Device _device;
    // The last fetch: the ids sent to each owner (in owner order) and their places in the step's table; the local
    // rows this rank served, in the order the requests arrived.
    private int[] _sendCounts = [];
    private long[] _sendPlaces = [];
    private int[] _servedCounts = [];
    private long[] _servedRows = [];

    /// <summary>This rank's shard of a table of <paramref name="rows"/> rows, initialised by
    /// <see cref="SeededItemRows"/>.</summary>
    public ShardedItemTable(long rows, ModelConfig model, TrainingConfig training, Device device)
    {
        (_ranks, _rank) = Mpi.Initialized ? (Mpi.Size, Mpi.Rank) : (1, 0);
        Rows = rows;
        Dim = model.EmbeddingDim;
        _device = device;
        _shard = new Parameter(SeededItemRows.Draw(training.Seed, rows, Dim, _rank, _ranks).to(device),
            requires_grad: true);
        _optimizer = new AdamW([_shard], training.LearningRate, training.Beta1, training.Beta2, training.WeightDecay);
    }

    /// <summary>Rows of the whole table (ids 0 … Rows − 1).</summary>
    public long Rows { get; }

    /// <summary>Embedding width.</summary>
    public long Dim { get; }

    /// <summary>Rows this rank holds.</summary>
    public long LocalRows => _shard.shape[0];

    /// <summary>Bytes this rank holds for the table: its rows and their two AdamW moments.</summary>
    public long BytesHeld => 3 * LocalRows * Dim * sizeof(float);

    /// <summary>Bytes this rank sent to other ranks in the last step's exchanges (ids, rows served, gradients
    /// returned).</summary>
    public long BytesLastStep { get; private set; }

    /// <summary>Seconds spent in MPI calls so far.</summary>
    public double Seconds { get; private set; }

    /// <summary>
    /// The rows of <paramref name="ids"/> (distinct, none 0) as a [ids + 1, D] table whose row i + 1 is ids[i]'s and
    /// row 0 padding; collective: every rank calls it once per step.
    /// </summary>
    public Tensor Fetch(long[] ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        BytesLastStep = 0;
        _sendCounts = new int[_ranks];
        foreach (var id in ids) _sendCounts[id % _ranks]++;
        var send = new long[ids.Length];
        _sendPlaces = new long[ids.Length];
        var next = new int[_ranks];
        for (int o = 1; o < _ranks; o++) next[o] = next[o - 1] + _sendCounts[o - 1];
        for (int i = 0; i < ids.Length; i++)
        {
            int slot = next[ids[i] % _ranks]++;
            send[slot] = ids[i];
            _sendPlaces[slot] = i + 1;
        }
        var clock = Stopwatch.StartNew();
        (long[] requested, _servedCounts) = _ranks == 1 ? (send, _sendCounts) : Mpi.AlltoallV<long>(send, _sendCounts);
        _servedRows = requested.Select(id => id / _ranks).ToArray();
        using var served = _shard.index_select(0, tensor(_servedRows, device: _device)).cpu().contiguous();
        Tensor rows;
        if (_ranks == 1) rows = served.clone();
        else
        {
            var values = served.data<float>().ToArray();
            var (back, _) = Mpi.AlltoallV<float>(values, _servedCounts.Select(c => (int)(c * Dim)).ToArray());
            rows = tensor(back, [ids.Length, Dim]);
            // What crosses to other ranks: ids out, rows served back (a rank's requests to itself stay local).
            long toOthers = ids.Length - _sendCounts[_rank], servedOthers = requested.Length - _servedCounts[_rank];
            BytesLastStep = toOthers * sizeof(long) + servedOthers * Dim * sizeof(float);
        }
        Seconds += clock.Elapsed.TotalSeconds;
        var table = zeros(ids.Length + 1, Dim, device: _device);
        table.index_copy_(0, tensor(_sendPlaces, device: _device), rows.to(_device));
        return table.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Returns the gradient of the last <see cref="Fetch"/>'s table to the rows' owners and takes the AdamW step of
    /// this rank's shard with the sum of what every rank returned; collective.
    /// </summary>
    public void Step(Tensor tableGrad)
    {
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            using var mine = tableGrad.index_select(0, tensor(_sendPlaces, device: tableGrad.device)).cpu()
                .contiguous();
            Tensor received;
            if (_ranks == 1) received = mine.clone();
            else
            {
                var clock = Stopwatch.StartNew();
                var values = mine.data<float>().ToArray();
                var (back, _) = Mpi.AlltoallV<float>(values, _sendCounts.Select(c => (int)(c * Dim)).ToArray());
                Seconds += clock.Elapsed.TotalSeconds;
                BytesLastStep += (_sendPlaces.Length - _sendCounts[_rank]) * Dim * sizeof(float);
                received = tensor(back, [_servedRows.Length, Dim]);
            }
            // One gradient buffer for the shard's life: a fresh one per step (1 GiB at 10 M items over 2 ranks) would
            // wait for the garbage collector.
            var grad = _shard.grad;
            if (grad is null)
            {
                _shard.grad = zeros_like(_shard);
                grad = _shard.grad!;
            }
            using var _ = grad;
            grad.zero_();
            grad.index_add_(0, tensor(_servedRows, device: _device), received.to(_device), Scalars.Of(1.0));
        }
        _optimizer.Step();
    }

    /// <summary>The whole table [Rows, D], gathered from every rank's shard (for evaluation and checkpoints: it
    /// needs the memory of the unsharded table while it lives); collective.</summary>
    public Tensor Gather()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var table = empty(Rows, Dim, device: _device);
        if (_ranks == 1) table.copy_(_shard);
        else
        {
            var clock = Stopwatch.StartNew();
            using var local = _shard.detach().cpu().contiguous();
            var all = Mpi.AllgatherV<float>(local.data<float>().ToArray(), out var counts);
            Seconds += clock.Elapsed.TotalSeconds;
            long offset = 0;
            for (int r = 0; r < _ranks; r++)
            {
                long n = counts[r] / Dim;
                using var part = tensor(all.AsSpan((int)offset, counts[r]).ToArray(), [n, Dim], device: _device);
                table.index_copy_(0, arange(Scalars.Of((long)r), Scalars.Of(Rows), Scalars.Of((long)_ranks),
                    dtype: ScalarType.Int64, device: _device), part);
                offset += counts[r];
            }
        }
        return table.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _optimizer.Dispose();
        _shard.Dispose();
    }
}
