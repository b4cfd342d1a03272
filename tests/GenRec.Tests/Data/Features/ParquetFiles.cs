using Parquet;
using Parquet.Schema;

namespace GenRec.Tests.Data.Features;

/// <summary>Writes small Parquet files for the tests with Parquet.Net.</summary>
internal static class ParquetFiles
{
    public static void WriteEvents(string path, string[] users, string[] items, int[] ratings, long[] times)
    {
        var user = new DataField<string>("user");
        var item = new DataField<string>("item");
        var rating = new DataField<int>("rating");
        var ts = new DataField<long>("ts");
        using var fs = File.Create(path);
        var writer = ParquetWriter.CreateAsync(new ParquetSchema(user, item, rating, ts), fs).GetAwaiter().GetResult();
        using (var g = writer.CreateRowGroup())
        {
            g.WriteAsync(user, users).GetAwaiter().GetResult();
            g.WriteAsync(item, items).GetAwaiter().GetResult();
            g.WriteAsync<int>(rating, ratings.AsMemory()).GetAwaiter().GetResult();
            g.WriteAsync<long>(ts, times.AsMemory()).GetAwaiter().GetResult();
        }
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
