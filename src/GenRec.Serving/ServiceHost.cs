using System.Diagnostics;
using System.Net;
using System.Text.Json;
using GenRec.Serving.Api;
using GenRec.Serving.Stores;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GenRec.Serving;

/// <summary>
/// The HTTP service: ASP.NET Core minimal API over one <see cref="RecommenderEngine"/> and one
/// <see cref="IHistoryStore"/>. Every refused request gets a 4xx with a JSON <c>{"error": …}</c> naming the field
/// or limit; only a fault of the service itself is a 500.
/// </summary>
public static class ServiceHost
{
    /// <summary>Builds the application (not started): endpoints, limits, OpenAPI document at <c>/openapi/v1.json</c>.</summary>
    public static WebApplication Build(ServingOptions options, RecommenderEngine engine, IHistoryStore store, ILoggerProvider? logs = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        builder.Logging.ClearProviders();
        if (logs is not null) builder.Logging.AddProvider(logs);
        builder.Services.Configure<JsonOptions>(j => j.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase);
        builder.Services.AddOpenApi();
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        // At most MaxConcurrentRequests at once and as many waiting; beyond that a request is refused at once (503)
        // rather than queued without bound.
        builder.Services.AddRateLimiter(r =>
        {
            r.GlobalLimiter = System.Threading.RateLimiting.PartitionedRateLimiter.Create<HttpContext, string>(_ =>
                System.Threading.RateLimiting.RateLimitPartition.GetConcurrencyLimiter("all", _ => new System.Threading.RateLimiting.ConcurrencyLimiterOptions
                {
                    PermitLimit = options.MaxConcurrentRequests,
                    QueueLimit = options.MaxQueuedRequests,
                    QueueProcessingOrder = System.Threading.RateLimiting.QueueProcessingOrder.OldestFirst,
                }));
            r.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            r.OnRejected = (ctx, cancel) => new ValueTask(ctx.HttpContext.Response.WriteAsJsonAsync(
                new ErrorBody($"too many concurrent requests: {options.MaxConcurrentRequests} running and {options.MaxQueuedRequests} waiting; retry later."), cancel));
        });
        var metrics = new ServiceMetrics();
        var state = new EngineSlot(engine);
        var app = builder.Build();

        app.Use(async (ctx, next) =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                if (ctx.Request.ContentLength > options.MaxBodyBytes)
                    throw new ApiException(413, $"request body too large: {ctx.Request.ContentLength} bytes; at most {options.MaxBodyBytes}.");
                await next(ctx);
            }
            catch (Exception e) when (Refusal(e) is var (status, message) && !ctx.Response.HasStarted)
            {
                ctx.Response.Clear();
                ctx.Response.StatusCode = status;
                await ctx.Response.WriteAsJsonAsync(new ErrorBody(message));
            }
            finally
            {
                var endpoint = ctx.GetEndpoint() is RouteEndpoint re ? re.RoutePattern.RawText ?? ctx.Request.Path.Value ?? "" : "unmatched";
                metrics.Record(endpoint, ctx.Response.StatusCode, clock.Elapsed);
            }
        });
        // Errors ASP.NET Core answers by itself (415 for a body that is not JSON, 404, 405) get the JSON body every
        // other error has, instead of none.
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var message = http.Response.StatusCode switch
            {
                415 => $"unsupported media type '{http.Request.ContentType}': send the body as JSON "
                    + "(Content-Type: application/json).",
                404 => $"no endpoint {http.Request.Method} {http.Request.Path}; the API is listed at /openapi/v1.json.",
                405 => $"{http.Request.Method} is not allowed on {http.Request.Path}; see /openapi/v1.json.",
                var code => $"{code} {ReasonPhrases.GetReasonPhrase(code)}.",
            };
            await http.Response.WriteAsJsonAsync(new ErrorBody(message));
        });
        app.UseRateLimiter();
        app.MapOpenApi();
        var api = new Endpoints(options, state, store, metrics);
        var page = ReadPage();
        app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/healthz", api.HealthAsync);
        app.MapGet("/metrics", () => Results.Text(metrics.Render(state.Current.Version, store.Describe), "text/plain; version=0.0.4"));
        // The OpenAPI document lists the errors too: every one carries ErrorBody.
        foreach (var endpoint in new[]
        {
            app.MapPost("/v1/events", api.EventsAsync),
            app.MapPost("/v1/history", api.HistoryAsync),
            app.MapPost("/v1/retrieve", api.RetrieveAsync),
            app.MapPost("/v1/rank", api.RankAsync),
            app.MapPost("/v1/recommend", api.RecommendAsync),
        })
        {
            endpoint.Produces(200, contentType: "application/json");
            foreach (int status in new[] { 400, 409, 413, 415, 503 })
                endpoint.Produces<ErrorBody>(status, "application/json");
        }
        app.MapPost("/admin/reload", (Delegate)api.ReloadAsync);
        return app;
    }

    private static string ReadPage()
    {
        using var stream = typeof(ServiceHost).Assembly.GetManifestResourceStream("GenRec.Serving.index.html")
            ?? throw new InvalidOperationException("the page resource GenRec.Serving.index.html is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The status and message for an exception that is the client's fault, or null for a service fault.</summary>
    private static (int, string)? Refusal(Exception e) => e switch
    {
        ApiException a => (a.Status, a.Message),
        StoreUnavailableException u => (503, u.Message),
        BadHttpRequestException b when b.StatusCode == StatusCodes.Status413PayloadTooLarge => (413, "request body too large."),
        BadHttpRequestException b => (b.StatusCode, b.InnerException is JsonException j ? $"malformed JSON: {j.Message}" : b.Message),
        JsonException j => (400, $"malformed JSON: {j.Message}"),
        _ => null,
    };

    /// <summary>Whether a request came from this machine (admin endpoints).</summary>
    internal static bool IsLoopback(HttpContext ctx) => ctx.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip);
}
