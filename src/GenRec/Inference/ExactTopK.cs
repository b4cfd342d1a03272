using System.Numerics.Tensors;

namespace GenRec.Inference;

/// <summary>
/// Exact inner-product top-k over row-major vectors into caller-owned buffers: one SIMD dot product per row and a
/// bounded min-heap of the best k, sorted best first at the end. Allocates nothing; the filter is consulted only for
/// rows that would enter the heap, which after the first few thousand rows is rare.
/// </summary>
public static class ExactTopK
{
    /// <summary>A filter that keeps every row.</summary>
    public readonly struct KeepAll : IRowFilter
    {
        /// <inheritdoc />
        public bool Skip(int row) => false;
    }

    /// <summary>
    /// Writes the best rows of <paramref name="vectors"/> ([n × <paramref name="dim"/>]) for <paramref name="query"/>
    /// into <paramref name="rows"/> and their inner products into <paramref name="scores"/>, best first, as many as
    /// <paramref name="rows"/> holds; returns how many were written (fewer only when fewer rows pass the filter).
    /// Ties go to the lower row.
    /// </summary>
    public static int Search<TFilter>(ReadOnlySpan<float> query, ReadOnlySpan<float> vectors, int dim, Span<int> rows, Span<float> scores, TFilter filter)
        where TFilter : IRowFilter, allows ref struct
    {
        if (dim < 1 || query.Length != dim) throw new ArgumentException($"the query has {query.Length} values; expected dim = {dim} ≥ 1.", nameof(query));
        if (vectors.Length % dim != 0) throw new ArgumentException($"{vectors.Length} values are not whole rows of {dim}.", nameof(vectors));
        if (scores.Length != rows.Length) throw new ArgumentException($"{rows.Length} row slots but {scores.Length} score slots.", nameof(scores));
        int n = vectors.Length / dim, k = Math.Min(rows.Length, n), count = 0;
        for (int r = 0; r < n; r++)
        {
            float s = TensorPrimitives.Dot(query, vectors.Slice(r * dim, dim));
            if (count == k && s <= scores[0]) continue;
            if (filter.Skip(r)) continue;
            if (count < k) { rows[count] = r; scores[count] = s; SiftUp(rows, scores, count++); }
            else { rows[0] = r; scores[0] = s; SiftDown(rows, scores, 0, k); }
        }
        // Heap-sort: move the weakest to the end until the best is first.
        for (int end = count - 1; end > 0; end--)
        {
            (rows[0], rows[end]) = (rows[end], rows[0]);
            (scores[0], scores[end]) = (scores[end], scores[0]);
            SiftDown(rows, scores, 0, end);
        }
        return count;
    }

    // A min-heap on score; on equal scores the higher row is the weaker, so results do not depend on arrival order.
    private static bool Weaker(Span<int> rows, Span<float> s, int a, int b) => s[a] < s[b] || (s[a] == s[b] && rows[a] > rows[b]);

    private static void SiftUp(Span<int> rows, Span<float> s, int i)
    {
        while (i > 0)
        {
            int p = (i - 1) / 2;
            if (!Weaker(rows, s, i, p)) break;
            (rows[i], rows[p]) = (rows[p], rows[i]);
            (s[i], s[p]) = (s[p], s[i]);
            i = p;
        }
    }

    private static void SiftDown(Span<int> rows, Span<float> s, int i, int count)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < count && Weaker(rows, s, l, m)) m = l;
            if (r < count && Weaker(rows, s, r, m)) m = r;
            if (m == i) return;
            (rows[i], rows[m]) = (rows[m], rows[i]);
            (s[i], s[m]) = (s[m], s[i]);
            i = m;
        }
    }
}
