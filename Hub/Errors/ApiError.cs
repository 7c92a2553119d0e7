namespace EventHub.Errors;

/// <summary>The body of every HTTP error: <c>{"error":{"code":"...","message":"..."}}</c>.</summary>
public sealed record ApiError(ApiErrorBody Error)
{
    public static IResult BadRequest(string code, string message) =>
        Results.Json(new ApiError(new ApiErrorBody(code, message)), statusCode: StatusCodes.Status400BadRequest);
}

public sealed record ApiErrorBody(string Code, string Message);
