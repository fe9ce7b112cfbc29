using Microsoft.AspNetCore.Http.HttpResults;

namespace Patron.Console;

/// <summary>Turns the native API's error results into one line for a console page.</summary>
public static class ConsoleErrors
{
    public static string? Describe(IResult result) => result switch
    {
        ValidationProblem v => string.Join("; ", v.ProblemDetails.Errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")),
        ProblemHttpResult p => p.ProblemDetails.Detail ?? p.ProblemDetails.Title,
        _ => null,
    };
}
