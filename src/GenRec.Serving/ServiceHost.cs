using System.Globalization;
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
using Microsoft.Extensions.Logging.Console;
using Prometheus;

namespace GenRec.Serving;

/// <summary>
/// The HTTP service: ASP.NET Core minimal API over one <see cref="RecommenderEngine"/> and one
/// <see cref="IHistoryStore"/>. Every refused request gets a 4xx with a JSON <c>{"error": …}</c> naming the field
/// or limit, a store that cannot serve gets a 503 with <c>Retry-After</c>, and only a fault of the service itself is a
/// 500, logged once with the request id that the response carries (<c>X-Request-Id</c>, and <c>requestId</c> in the
/// body).
/// </summary>
public static class ServiceHost
{
    private const string WatchLog = "GenRec.Serving.Watch";

    /// <summary>
    /// Builds the application (not started): endpoints, limits, OpenAPI document at <c>/openapi/v1.json</c>, metrics
    /// at <c>/metrics</c>; warnings and errors go to <paramref name="logs"/>, or to stderr without it.
    /// </summary>
    public static WebApplication Build(ServingOptions options, RecommenderEngine engine, IHistoryStore store, ILoggerProvider? logs = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
        builder.Logging.ClearProviders();
        // Warnings and errors only (each server error once, with its request id), to the given provider or to stderr.
        if (logs is not null) builder.Logging.AddProvider(logs);
        else
        {
            builder.Logging.AddSimpleConsole(c =>
            {
                c.SingleLine = true;
                c.UseUtcTimestamp = true;
                c.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            });
            builder.Services.Configure<ConsoleLoggerOptions>(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Which model is served is worth a line each time it changes.
        builder.Logging.AddFilter(WatchLog, LogLevel.Information);
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
            r.OnRejected = (ctx, cancel) =>
            {
                ctx.HttpContext.Response.Headers.RetryAfter = "1";
                return new ValueTask(ctx.HttpContext.Response.WriteAsJsonAsync(
                    new ErrorBody($"too many concurrent requests: {options.MaxConcurrentRequests} running and "
                        + $"{options.MaxQueuedRequests} waiting; retry later.")
                    { RequestId = ctx.HttpContext.TraceIdentifier },
                    cancel));
            };
        });
        var state = new EngineSlot(engine);
        var metrics = new ServiceMetrics(() => state.Current, store.Describe);
        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("GenRec.Serving");

        // Outermost: prometheus-net counts each request with the status the server really sent, which the error
        // handler inside it has settled (a fault is a 500 here, not the 200 the response held when it was thrown).
        app.UseHttpMetrics(o => o.SetMetricFactory(metrics.Factory));
        app.Use(async (ctx, next) =>
        {
            string id = RequestId(ctx);
            // A server error, counted and logged once, with the id the response carries.
            void ReportServerError(Exception? e, string what)
            {
                metrics.ServerError();
                log.LogError(e, "request {RequestId} {Method} {Path} {What}", id, ctx.Request.Method, ctx.Request.Path,
                    what);
            }
            ctx.Response.OnStarting(() =>
            {
                ctx.Response.Headers[RequestIdHeader] = id;
                return Task.CompletedTask;
            });
            try
            {
                if (ctx.Request.ContentLength > options.MaxBodyBytes)
                    throw new ApiException(413, $"request body too large: {ctx.Request.ContentLength} bytes; at most {options.MaxBodyBytes}.");
                await next(ctx);
                // A handler's own 500 (a reload that failed) is a server error too: logged once, like a thrown one.
                if (ctx.Response.StatusCode is >= 500 and not 503)
                    ReportServerError(null, $"answered {ctx.Response.StatusCode}");
            }
            catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
            {
                // The client went away; nothing to answer and nothing wrong with the service.
            }
            catch (Exception e) when (!ctx.Response.HasStarted)
            {
                var (status, message) = Refusal(e)
                    ?? (500, $"internal error; reported in the service log as request {id}.");
                if (status == 500) ReportServerError(e, "failed");
                ctx.Response.Clear();
                ctx.Response.StatusCode = status;
                if (e is StoreUnavailableException u)
                    ctx.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(u.RetryAfter.TotalSeconds))
                        .ToString(CultureInfo.InvariantCulture);
                await ctx.Response.WriteAsJsonAsync(new ErrorBody(message) { RequestId = id });
            }
            catch (Exception e)
            {
                // Too late to answer with an error: the status line has gone. Logged once, then the connection ends.
                ReportServerError(e, "failed after its response started");
                ctx.Abort();
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
            await http.Response.WriteAsJsonAsync(new ErrorBody(message) { RequestId = http.TraceIdentifier });
        });
        app.UseRateLimiter();
        app.MapOpenApi();
        var api = new Endpoints(options, state, store, metrics);
        var page = ReadPage();
        app.MapGet("/", () => Results.Content(page, "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/healthz", api.HealthAsync);
        app.MapMetrics("/metrics", metrics.Registry);
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
        if (options.Watch is not null)
        {
            var watcher = new ModelWatcher(options, state, metrics,
                app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(WatchLog));
            app.Lifetime.ApplicationStopping.Register(watcher.Dispose);
        }
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

    /// <summary>The header that carries a request's id: in every response, and from the client optionally.</summary>
    public const string RequestIdHeader = "X-Request-Id";

    /// <summary>
    /// The request's id: the client's <c>X-Request-Id</c> when it is a plain token of at most 64 characters (so that a
    /// caller's trace id follows the request into the log), otherwise the server's own.
    /// </summary>
    private static string RequestId(HttpContext ctx)
    {
        string? given = ctx.Request.Headers[RequestIdHeader];
        if (given is { Length: > 0 and <= 64 }
            && given.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            ctx.TraceIdentifier = given;
        return ctx.TraceIdentifier;
    }

    /// <summary>Whether a request came from this machine (admin endpoints).</summary>
    internal static bool IsLoopback(HttpContext ctx) => ctx.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip);
}
