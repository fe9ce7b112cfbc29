using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Diagnostics;
using Patron.Cards;
using Patron.Channels;
using Patron.Compat;
using Patron.Data;
using Patron.Points;

namespace Patron;

public static class PatronHosting
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static WebApplicationBuilder AddPatronHosting(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
            builder.WebHost.UseUrls(DefaultUrl);
        // EF's per-command log lines would drown the service's own; failures are still logged.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Migrations", LogLevel.Warning);
        // At Trace, MVC prints every handler's arguments: the sign-in form's password among them.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure.PageActionInvoker", LogLevel.Debug);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Mvc.Infrastructure.ControllerActionInvoker", LogLevel.Debug);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<PatronExceptionHandler>();
        builder.Services.AddSingleton<ChannelDirectory>();
        builder.Services.AddSingleton<BusinessZoneCache>();
        builder.Services.AddOptions<OpenApiOptions>().BindConfiguration("OpenApi")
            .Validate(o => o.TimestampWindowSeconds > 0, "OpenApi:TimestampWindowSeconds must be positive").ValidateOnStart();
        builder.Services.AddOptions<RateLimitOptions>().BindConfiguration("RateLimit")
            .Validate(o => o.PermitsPerSecond >= 0 && o.Burst >= 0, "RateLimit:PermitsPerSecond and RateLimit:Burst must be 0 or more").ValidateOnStart();
        builder.Services.AddSingleton<ChannelRateLimiter>();
        builder.Services.AddSingleton<OpenApiGate>();
        return builder;
    }
}

/// <summary>
/// The last line: an exception that escapes a handler is a bug, answered with code 5000 and a
/// trace id in the API's own envelope, never with a stack trace, and logged. A database that is
/// down is not a bug: the answer is HTTP 503 with Retry-After, and the log says so once in a while
/// (<see cref="StorageFault"/>). Nor is a request the server could not read (a body cut short,
/// malformed chunks, too slow, too large): Kestrel's own status (400, 408, 413) with an invalid-input
/// code, logged as information without a stack trace. Only the partner APIs read bodies themselves
/// (<see cref="WireBody"/>); elsewhere ASP.NET Core's binding answers 400 before this, and the
/// problem document below is a fallback.
/// </summary>
public sealed class PatronExceptionHandler(ILogger<PatronExceptionHandler> logger, IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        // The caller went away (a reset connection, a cancelled read, a body cut off): nobody is
        // listening for an answer, and the connection is closed rather than drained. Both
        // ConnectionResetException and BadHttpRequestException are IOExceptions.
        if (exception is ConnectionResetException
            || (exception is OperationCanceledException or IOException) && http.RequestAborted.IsCancellationRequested)
        {
            http.Abort();
            return true;
        }

        var traceId = System.Diagnostics.Activity.Current?.Id ?? http.TraceIdentifier;
        if (exception is BadHttpRequestException unreadable)
        {
            logger.LogInformation("Unreadable request on {Method} {Path}, trace id {TraceId}: {Reason}",
                http.Request.Method, http.Request.Path, traceId, unreadable.Message);
            var invalid = Failure.Invalid("body", $"the request could not be read: {unreadable.Message}");
            if (await TryWriteEnvelopeAsync(http, invalid, unreadable.StatusCode))
                return true;
            http.Response.StatusCode = unreadable.StatusCode;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = { Status = unreadable.StatusCode, Title = "The request could not be read", Detail = unreadable.Message },
            });
        }
        var unavailable = StorageFault.IsUnavailable(exception);
        if (unavailable)
        {
            StorageFault.Report(logger, exception);
            http.Response.Headers.RetryAfter = "1";
        }
        else
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path}, trace id {TraceId}", http.Request.Method, http.Request.Path, traceId);
        }
        var status = unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError;
        var failure = new Failure(ErrorCode.Internal, unavailable
            ? $"the database is unavailable, try again shortly (trace id {traceId})"
            : $"internal error, trace id {traceId}");
        if (await TryWriteEnvelopeAsync(http, failure, status))
            return true;
        if (!unavailable)
            return false; // the ProblemDetails service writes a 500 with the trace id
        http.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = { Status = status, Title = "The database is unavailable", Detail = "Try again shortly.", Extensions = { ["traceId"] = traceId } },
        });
    }

    /// <summary>The failure in the envelope of the partner API that was called; false for any other path.</summary>
    private static async ValueTask<bool> TryWriteEnvelopeAsync(HttpContext http, Failure failure, int status)
    {
        switch (PartnerApis.Of(http.Request.Path))
        {
            case PartnerApi.Points:
                var pointShape = http.Request.Path.Value!.EndsWith("/Point/Add", StringComparison.OrdinalIgnoreCase);
                await PointsEnvelope.Failed(failure, pointShape, status).ExecuteAsync(http);
                return true;
            case PartnerApi.Open:
                await OpenApiResult.Fail(failure, status).ExecuteAsync(http);
                return true;
            default:
                return false;
        }
    }
}
