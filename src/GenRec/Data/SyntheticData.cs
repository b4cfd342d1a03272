namespace GenRec.Data;

/// <summary>
/// Generates interaction logs with real sequential structure, for the demo and the tests (no files, no network):
/// each item belongs to one latent interest; item popularity is Zipf-like within an interest; each user holds a few
/// interests and drifts between them; within an interest users tend to move along an item chain (like the next
/// episode of a series), which popularity alone cannot predict; gaps are log-normal (minutes within a session,
/// days between sessions); a share of ratings are negative.
/// </summary>
public static class SyntheticData
{
    /// <summary>Generates a dataset; deterministic in <paramref name="options"/>.</summary>
    public static RatingsLog Generate(SyntheticOptions? options = null)
    {
        var o = options ?? new SyntheticOptions();
        if (o.Users < 1 || o.Items < o.Interests || o.Interests < 1 || o.MinLength < 1 || o.MaxLength < o.MinLength)
            throw new ArgumentException("synthetic options: need Users ≥ 1, Interests ≥ 1, Items ≥ Interests, 1 ≤ MinLength ≤ MaxLength.");
        var rng = new Random(o.Seed);
        int perInterest = o.Items / o.Interests;

        // Zipf weights over the rank of an item within its interest.
        var zipf = new double[perInterest];
        for (int r = 0; r < perInterest; r++) zipf[r] = 1.0 / Math.Pow(r + 1, 0.9);
        var zipfCdf = Cumulative(zipf);
        // Items of an interest are shuffled so that chain order and popularity rank differ.
        var members = new int[o.Interests][];
        var all = Enumerable.Range(1, perInterest * o.Interests).OrderBy(_ => rng.Next()).ToArray();
        for (int k = 0; k < o.Interests; k++) members[k] = all[(k * perInterest)..((k + 1) * perInterest)];
        var chainPos = new Dictionary<int, (int Interest, int Pos)>();
        for (int k = 0; k < o.Interests; k++)
            for (int p = 0; p < perInterest; p++) chainPos[members[k][p]] = (k, p);
        // Popularity of interests themselves is skewed too.
        var interestCdf = Cumulative(Enumerable.Range(0, o.Interests).Select(k => 1.0 / Math.Pow(k + 1, 0.6)).ToArray());

        var events = new List<Interaction>(o.Users * (o.MinLength + o.MaxLength) / 2);
        long start = 1_000_000_000;
        // Births over the span users start in (and a little before, so that the first users find items), from a
        // generator of their own: without lifetimes the log is the same as before lifetimes existed.
        var birth = new long[perInterest * o.Interests + 1];
        long lifetime = (long)(o.ItemLifetimeDays * 86_400);
        if (lifetime > 0)
        {
            var births = new Random(o.Seed + 1);
            for (int i = 1; i < birth.Length; i++)
                birth[i] = start - lifetime / 4 + (long)(births.NextDouble() * 3.2e7);
        }
        bool Alive(int item, long time) => lifetime <= 0 || (time >= birth[item] && time < birth[item] + lifetime);
        for (int u = 1; u <= o.Users; u++)
        {
            int nInterests = 2 + rng.Next(3);
            var mine = Enumerable.Range(0, nInterests).Select(_ => Sample(interestCdf, rng)).Distinct().ToArray();
            int current = mine[0];
            int length = o.MinLength + (int)Math.Floor(Math.Pow(rng.NextDouble(), 2) * (o.MaxLength - o.MinLength + 1));
            var seen = new HashSet<int>();
            long t = start + (long)(rng.NextDouble() * 3e7);
            int last = -1;
            for (int i = 0; i < length; i++)
            {
                if (rng.NextDouble() < o.DriftProbability) current = mine[rng.Next(mine.Length)];
                int item = -1;
                if (last > 0 && rng.NextDouble() < o.ChainProbability && chainPos[last].Interest == current)
                {
                    // Next step(s) along the chain.
                    int p = chainPos[last].Pos + 1 + (rng.NextDouble() < 0.8 ? 0 : 1);
                    if (p < perInterest && !seen.Contains(members[current][p]) && Alive(members[current][p], t))
                        item = members[current][p];
                }
                for (int tries = 0; item < 0 && tries < (lifetime > 0 ? 400 : 50); tries++)
                {
                    int cand = members[current][Sample(zipfCdf, rng)];
                    if (!seen.Contains(cand) && Alive(cand, t)) item = cand;
                }
                if (item < 0) break; // the user has exhausted what they like
                seen.Add(item);
                last = item;
                bool negative = rng.NextDouble() < o.NegativeProbability;
                float rating = negative ? 1 + rng.Next(2) : 3 + rng.Next(3);
                // Session gaps: mostly minutes, sometimes days.
                double gap = rng.NextDouble() < 0.8 ? Math.Exp(4 + rng.NextDouble() * 3) : Math.Exp(10.5 + rng.NextDouble() * 2.5);
                t += (long)gap;
                events.Add(new Interaction(u, item, rating, t));
            }
        }
        var titles = new Dictionary<long, string>();
        foreach (var (item, (k, p)) in chainPos) titles[item] = $"interest {k} · episode {p + 1}";
        return new RatingsLog("synthetic", events, titles);
    }

    private static double[] Cumulative(double[] w)
    {
        var c = new double[w.Length];
        double s = 0;
        for (int i = 0; i < w.Length; i++) { s += w[i]; c[i] = s; }
        for (int i = 0; i < w.Length; i++) c[i] /= s;
        return c;
    }

    private static int Sample(double[] cdf, Random rng)
    {
        int i = Array.BinarySearch(cdf, rng.NextDouble());
        return Math.Min(i < 0 ? ~i : i, cdf.Length - 1);
    }
}
