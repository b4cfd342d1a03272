using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace GenRec.Serving;

/// <summary>
/// Request counters and latency histograms per endpoint, written in the Prometheus text format at
/// <c>GET /metrics</c>. Lock-free: counters are <see cref="Interlocked"/> increments.
/// </summary>
public sealed class ServiceMetrics
{
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private readonly ConcurrentDictionary<(string Endpoint, int Status), long[]> _requests = new();
    private readonly ConcurrentDictionary<string, Histogram> _latency = new();
    private long _coldStarts;

    private sealed class Histogram
    {
        public readonly long[] Counts = new long[Buckets.Length + 1];
        public long SumMicroseconds;
    }

    /// <summary>Counts one finished request.</summary>
    public void Record(string endpoint, int status, TimeSpan elapsed)
    {
        Interlocked.Increment(ref _requests.GetOrAdd((endpoint, status), _ => new long[1])[0]);
        var h = _latency.GetOrAdd(endpoint, _ => new Histogram());
        double s = elapsed.TotalSeconds;
        int b = 0;
        while (b < Buckets.Length && s > Buckets[b]) b++;
        Interlocked.Increment(ref h.Counts[b]);
        Interlocked.Add(ref h.SumMicroseconds, (long)(elapsed.TotalMilliseconds * 1000));
    }

    /// <summary>Counts an answer that fell back to popularity.</summary>
    public void ColdStart() => Interlocked.Increment(ref _coldStarts);

    /// <summary>The Prometheus exposition text.</summary>
    public string Render(string modelVersion, string store)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine("# HELP genrec_requests_total Requests by endpoint and HTTP status.");
        sb.AppendLine("# TYPE genrec_requests_total counter");
        foreach (var ((endpoint, status), n) in _requests.OrderBy(kv => kv.Key.Endpoint).ThenBy(kv => kv.Key.Status))
            sb.Append(inv, $"genrec_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {Interlocked.Read(ref n[0])}\n");
        sb.AppendLine("# HELP genrec_request_errors_total Requests answered with a 4xx or 5xx status.");
        sb.AppendLine("# TYPE genrec_request_errors_total counter");
        foreach (var group in _requests.Where(kv => kv.Key.Status >= 400).GroupBy(kv => kv.Key.Endpoint).OrderBy(g => g.Key))
            sb.Append(inv, $"genrec_request_errors_total{{endpoint=\"{group.Key}\"}} {group.Sum(kv => Interlocked.Read(ref kv.Value[0]))}\n");
        sb.AppendLine("# HELP genrec_request_seconds Request latency.");
        sb.AppendLine("# TYPE genrec_request_seconds histogram");
        foreach (var (endpoint, h) in _latency.OrderBy(kv => kv.Key))
        {
            long cumulative = 0;
            for (int b = 0; b < Buckets.Length; b++)
            {
                cumulative += Interlocked.Read(ref h.Counts[b]);
                sb.Append(inv, $"genrec_request_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{Buckets[b]}\"}} {cumulative}\n");
            }
            cumulative += Interlocked.Read(ref h.Counts[^1]);
            sb.Append(inv, $"genrec_request_seconds_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {cumulative}\n");
            sb.Append(inv, $"genrec_request_seconds_sum{{endpoint=\"{endpoint}\"}} {Interlocked.Read(ref h.SumMicroseconds) / 1e6}\n");
            sb.Append(inv, $"genrec_request_seconds_count{{endpoint=\"{endpoint}\"}} {cumulative}\n");
        }
        Single(sb, "genrec_cold_starts_total", "counter", "Answers that fell back to popularity (no usable history).", "", Interlocked.Read(ref _coldStarts));
        using (var self = System.Diagnostics.Process.GetCurrentProcess())
        {
            Single(sb, "process_resident_memory_bytes", "gauge", "Resident memory of the server process.", "", self.WorkingSet64);
            Single(sb, "process_cpu_seconds_total", "counter", "CPU time of the server process.", "", self.TotalProcessorTime.TotalSeconds);
        }
        Single(sb, "dotnet_gc_heap_bytes", "gauge", "Managed heap size after the last collection.", "", GC.GetTotalMemory(false));
        Single(sb, "genrec_model_info", "gauge", "The loaded models and the store.", $"{{version=\"{Escape(modelVersion)}\",store=\"{Escape(store)}\"}}", 1);
        return sb.ToString();
    }

    /// <summary>One metric with a single sample: HELP, TYPE and the value line.</summary>
    private static void Single(StringBuilder sb, string name, string type, string help, string labels, double value)
    {
        sb.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n{name}{labels} {value}\n");
    }

    private static string Escape(string v) => v.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
