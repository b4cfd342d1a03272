using System.CommandLine;
using System.Diagnostics;
using GenRec.Cli.Commands;
using GenRec.Inference.Search;

namespace GenRec.Cli.Bench;

/// <summary>
/// <c>genrec bench search</c>: exact SIMD top-K against the HNSW index on a generated catalog — build time, query
/// latency (p50 / p99) and recall@K of HNSW against the exact answer, in one run.
/// </summary>
internal static class BenchSearchCommand
{
    public static Command Create()
    {
        var items = new Option<int>("--items") { Description = "Catalog size.", DefaultValueFactory = _ => 1_000_000 };
        var dim = new Option<int>("--dim") { Description = "Embedding width.", DefaultValueFactory = _ => 50 };
        var queries = new Option<int>("--queries") { Description = "Queries timed (recall is averaged over them).", DefaultValueFactory = _ => 200 };
        var k = new Option<int>("--k") { Description = "Items per query (recall@k).", DefaultValueFactory = _ => 100 };
        var clusters = new Option<int>("--clusters") { Description = "Gaussian clusters the catalog is drawn from (0 = uniform on the sphere, the hardest case).", DefaultValueFactory = _ => 1000 };
        var ef = new Option<int>("--ef") { Description = "HNSW search beam width (higher: better recall, slower).", DefaultValueFactory = _ => 256 };
        var m = new Option<int>("--m") { Description = "HNSW graph degree (connectivity).", DefaultValueFactory = _ => 16 };
        var efConstruction = new Option<int>("--ef-construction") { Description = "HNSW beam width while building.", DefaultValueFactory = _ => 128 };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var moved = new Option<double>("--update-moved")
        {
            Description = "Also time an incremental index update (serve --watch): this share of the rows moves "
                + "(0 … 1), --update-new items are added; beside a rebuild of the same catalog, both with recall@k.",
            DefaultValueFactory = _ => -1,
        };
        var added = new Option<int>("--update-new")
        {
            Description = "With --update-moved: new items in the updated catalog.",
            DefaultValueFactory = _ => 1000,
        };
        var json = Options.Json();
        var cmd = new Command("search", "Exact inner-product top-K vs the HNSW index on a generated catalog: build time, latency and recall@K.")
        {
            items, dim, queries, k, clusters, ef, m, efConstruction, seed, moved, added, json,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            int n = r.GetValue(items), d = r.GetValue(dim), q = r.GetValue(queries), topK = r.GetValue(k), c = r.GetValue(clusters);
            if (n < 1 || d < 1 || q < 1 || topK < 1 || c < 0) throw new ArgumentException("--items, --dim, --queries and --k must be positive; --clusters at least 0.");
            int e = r.GetValue(ef);
            int degree = r.GetValue(m), efc = r.GetValue(efConstruction);
            if (e < 1 || degree < 2 || efc < 1) throw new ArgumentException("--ef and --ef-construction must be positive, --m at least 2.");
            bool asJson = r.GetValue(json);
            var rng = new Random(r.GetValue(seed));
            var clock = Stopwatch.StartNew();
            var vectors = Generate(rng, n, d, c);
            var queryVectors = Generate(rng, q, d, c);
            var ids = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
            Cli.Note($"generated {n:N0} items × {d} ({(c == 0 ? "uniform" : c + " clusters")}) and {q} queries in {clock.Elapsed.TotalSeconds:F1}s");

            var exact = new ExactItemIndex(ids, vectors, d);
            for (int i = 0; i < Math.Min(5, q); i++) exact.Search(queryVectors.AsSpan(i * d, d), topK);   // warm-up (JIT), untimed
            var truth = new HashSet<long>[q];
            var exactMs = new double[q];
            for (int i = 0; i < q; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                var hits = exact.Search(queryVectors.AsSpan(i * d, d), topK);
                exactMs[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                truth[i] = hits.Select(h => h.Item).ToHashSet();
            }
            Array.Sort(exactMs);
            var rows = new List<object> { new { index = "exact (SIMD dot + heap)", buildSeconds = 0.0, p50Ms = exactMs[q / 2], p99Ms = exactMs[Math.Min(q - 1, (int)(q * 0.99))], recall = 1.0 } };
            if (!asJson) Console.WriteLine($"exact:        p50 {exactMs[q / 2],8:F2} ms  p99 {exactMs[Math.Min(q - 1, (int)(q * 0.99))],8:F2} ms  recall@{topK} 1.000");

            clock.Restart();
            using var hnsw = new HnswItemIndex(ids, vectors, d, degree, efc, e, progress: done => { if (done % 200_000 == 0 && !asJson) Cli.Note($"  HNSW ef={e}: {done:N0} / {n:N0} added, {clock.Elapsed.TotalSeconds:F0}s"); });
            double build = clock.Elapsed.TotalSeconds;
            for (int i = 0; i < Math.Min(5, q); i++) hnsw.Search(queryVectors.AsSpan(i * d, d), topK);   // warm-up, untimed
            var ms = new double[q];
            double recall = 0;
            for (int i = 0; i < q; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                var hits = hnsw.Search(queryVectors.AsSpan(i * d, d), topK);
                ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                recall += hits.Count(h => truth[i].Contains(h.Item)) / (double)truth[i].Count;
            }
            Array.Sort(ms);
            recall /= q;
            rows.Add(new { index = $"HNSW (USearch, M={degree}, ef_construction={efc}, ef={e})", buildSeconds = build, p50Ms = ms[q / 2], p99Ms = ms[Math.Min(q - 1, (int)(q * 0.99))], recall });
            if (!asJson) Console.WriteLine($"HNSW M={degree} efc={efc} ef={e}: p50 {ms[q / 2],8:F2} ms  p99 {ms[Math.Min(q - 1, (int)(q * 0.99))],8:F2} ms  recall@{topK} {recall:F3}  (built in {build:F0}s; {exactMs[q / 2] / ms[q / 2]:F0}x faster than exact at p50)");
            if (r.GetValue(moved) >= 0)
                rows.Add(Update(rng, hnsw, ids, vectors, queryVectors, d, c, topK, r.GetValue(moved),
                    r.GetValue(added), (degree, efc, e), asJson));
            if (asJson) Cli.PrintJson(new { items = n, dim = d, queries = q, k = topK, clusters = c, results = rows });
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// The next model's catalog (a share of the rows moved, new items added): the index updated from the previous
    /// graph (<see cref="HnswItemIndex.Update"/>) against one built from scratch, in seconds and recall@k.
    /// </summary>
    private static object Update(Random rng, HnswItemIndex before, long[] ids, float[] vectors, float[] queries,
        int d, int clusters,
        int topK, double share, int newItems, (int M, int Efc, int Ef) hnsw, bool asJson)
    {
        if (share > 1 || newItems < 0)
            throw new ArgumentException("--update-moved must lie in 0 … 1 and --update-new be 0 or more.");
        int n = ids.Length;
        var next = new float[(long)(n + newItems) * d];
        vectors.CopyTo(next, 0);
        Generate(rng, newItems, d, clusters).CopyTo(next, (long)n * d);
        var movedRows = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).Take((int)(share * n)).ToList();
        var shift = Generate(rng, movedRows.Count, d, 0);
        for (int i = 0; i < movedRows.Count; i++)
        {
            var row = next.AsSpan(movedRows[i] * d, d);
            for (int j = 0; j < d; j++) row[j] += 0.1f * shift[i * d + j];
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }
        var nextIds = Enumerable.Range(1, n + newItems).Select(i => (long)i).ToArray();
        var exact = new ExactItemIndex(nextIds, next, d);
        int q = queries.Length / d;
        var truth = Enumerable.Range(0, q).Select(i => exact.Search(queries.AsSpan(i * d, d), topK)
            .Select(h => h.Item).ToHashSet()).ToArray();
        double Recall(HnswItemIndex index) => Enumerable.Range(0, q).Average(i =>
            index.Search(queries.AsSpan(i * d, d), topK).Count(h => truth[i].Contains(h.Item))
            / (double)truth[i].Count);
        var clock = Stopwatch.StartNew();
        using var updated = HnswItemIndex.Update(before, nextIds, next, d, _ => true,
            Inference.RecommendationPipeline.IncrementalTolerance, out var counts);
        double updateSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        using var rebuilt = new HnswItemIndex(nextIds, next, d, hnsw.M, hnsw.Efc, hnsw.Ef);
        double rebuildSeconds = clock.Elapsed.TotalSeconds;
        double updatedRecall = Recall(updated), rebuiltRecall = Recall(rebuilt);
        if (!asJson)
            Console.WriteLine($"update ({share:P0} of {n:N0} rows moved, {newItems:N0} new): {updateSeconds:F2}s "
                + $"({counts.Kept:N0} kept, {counts.Moved:N0} re-added, {counts.Added:N0} added), recall@{topK} "
                + $"{updatedRecall:F3}; rebuild {rebuildSeconds:F2}s, recall@{topK} {rebuiltRecall:F3}; "
                + $"update/rebuild time {updateSeconds / rebuildSeconds:F2}");
        return new
        {
            index = "HNSW incremental update vs rebuild",
            movedShare = share,
            newItems,
            updateSeconds,
            rebuildSeconds,
            kept = counts.Kept,
            reAdded = counts.Moved,
            added = counts.Added,
            updatedRecall,
            rebuiltRecall,
        };
    }

    /// <summary>Unit vectors: around <paramref name="clusters"/> random centres (spread 0.5), or uniform when 0.</summary>
    private static float[] Generate(Random rng, int n, int d, int clusters)
    {
        var centres = new float[Math.Max(clusters, 1) * d];
        for (int i = 0; i < centres.Length; i++) centres[i] = (float)Normal(rng);
        var v = new float[(long)n * d];
        for (int i = 0; i < n; i++)
        {
            var row = v.AsSpan(i * d, d);
            int centre = clusters == 0 ? -1 : rng.Next(clusters);
            for (int j = 0; j < d; j++) row[j] = (float)(centre < 0 ? Normal(rng) : centres[centre * d + j] + 0.5 * Normal(rng));
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }
        return v;
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
