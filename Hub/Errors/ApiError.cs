namespace EventHub.Errors;

/// <summary>The body of every HTTP error: <c>{"error":{"code":"...","message":"..."}}</c>.</summary>
public sealed record ApiError(ApiErrorBody Error)
{
    public static IResult BadRequest(string code, string message) => Create(StatusCodes.Status400BadRequest, code, message);

    public static IResult Create(int statusCode, string code, string message) =>
        Results.Json(new ApiError(new ApiErrorBody(code, message)), statusCode: statusCode);
}

public sealed record ApiErrorBody(string Code, string Message);
