using System.Net;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using GenRec.Tests.Serving;

namespace GenRec.Tests.Fuzz;

/// <summary>
/// Random request bodies against every POST endpoint: each is answered 200 or a 4xx with a JSON error, never a 5xx,
/// and the service stays healthy afterwards.
/// </summary>
public class HttpApiFuzzTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private static readonly string[] Paths = ["/v1/events", "/v1/history", "/v1/retrieve", "/v1/rank", "/v1/recommend"];
    private static readonly string[] Keys = ["user", "history", "events", "candidates", "k", "sortBy", "includeSeen", "item", "action", "timestamp", "features", "zzz"];

    private static Gen<string> Scalars => Gen.Elements("null", "true", "false", "-1", "0", "1", "3", "100000", "1e308", "-1e308", "0.5", "\"\"", "\"1\"", "\"2\"", "\"like\"", "\"dislike\"",
        "\"gender\"", "\"" + new string('x', 5000) + "\"", "\"\\u0000\"", "\"é\"", "9223372036854775807", "[]", "{}");

    private static Gen<string> Value(int depth) => depth == 0 ? Scalars : Gen.OneOf(Scalars, Scalars,
        Value(depth - 1).ListOf().Select(v => "[" + string.Join(",", v) + "]"),
        Object(depth - 1));

    private static Gen<string> Object(int depth) =>
        Gen.Elements(Keys).SelectMany(k => Value(depth).Select(v => $"\"{k}\":{v}")).ListOf().Select(kv => "{" + string.Join(",", kv) + "}");

    /// <summary>Structured bodies most of the time, broken JSON some of the time.</summary>
    private static Gen<string> Body => Gen.Frequency(
        (6, Object(2)),
        (1, Object(1).Select(s => s.Length > 2 ? s[..(s.Length / 2)] : "{")),
        (1, Gen.Elements("", "[", "nul", "{\"user\":", "{\"user\": \"1\", \"events\": [{\"item\": \"1\", \"timestamp\": 1e99}]}", "\u0001\u0002")));

    [Fact]
    public async Task RandomBodiesGetA200OrAClearClientErrorAndTheServiceStaysUp()
    {
        var statuses = new Dictionary<int, int>();
        Prop.ForAll(Gen.Elements(Paths).ToArbitrary(), Body.ToArbitrary(), (path, body) =>
        {
            // HttpClient's synchronous Send: FsCheck properties are synchronous.
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = service.Client.Send(request);
            int code = (int)response.StatusCode;
            statuses[code] = statuses.GetValueOrDefault(code) + 1;
            using var reader = new StreamReader(response.Content.ReadAsStream());
            var text = reader.ReadToEnd();
            Assert.True(code is 200 or (>= 400 and < 500), $"{path} {body[..Math.Min(body.Length, 300)]} → {code} {text[..Math.Min(text.Length, 300)]}");
            using var json = JsonDocument.Parse(text);
            if (code >= 400) Assert.False(string.IsNullOrWhiteSpace(json.RootElement.GetProperty("error").GetString()));
        }).Check(FuzzConfig.Cases(400));
        Assert.True(statuses.Keys.Count(c => c >= 400) >= 1 && statuses.ContainsKey(200), string.Join(", ", statuses.Select(kv => $"{kv.Key}: {kv.Value}")));
        using var health = await service.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
