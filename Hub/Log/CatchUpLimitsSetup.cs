using Microsoft.Extensions.Options;

namespace EventHub.Log;

/// <summary>
/// Binds and checks <see cref="CatchUpLimitsOptions"/>: the bound must leave room in the pool
/// catch-ups read from, or catch-ups would again take every connection (the starvation the bound
/// is there to prevent) and the extra waiting would move into the pool.
/// </summary>
public static class CatchUpLimitsSetup
{
    public static IServiceCollection AddCatchUpLimits(this IServiceCollection services, IConfiguration configuration, string catchUpConnectionString)
    {
        var poolSize = LogDataSources.SharedPoolSize(catchUpConnectionString);
        services.AddOptions<CatchUpLimitsOptions>().Bind(configuration.GetSection(CatchUpLimitsOptions.Section))
            .Validate(o => o.MaxConcurrentCatchUps > 0, "Limits:MaxConcurrentCatchUps must be at least 1.")
            .Validate(o => o.MaxConcurrentStateReads > 0, "Limits:MaxConcurrentStateReads must be at least 1.")
            .Validate(o => o.StateReadAheadBytes > 0, "Limits:StateReadAheadBytes must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<CatchUpLimitsOptions>>(new PoolValidator(poolSize));
        services.AddSingleton(sp => new EventHub.State.StateReadAheadBudget(
            sp.GetRequiredService<IOptions<CatchUpLimitsOptions>>().Value.StateReadAheadBytes));
        return services;
    }

    private sealed class PoolValidator(int poolSize) : IValidateOptions<CatchUpLimitsOptions>
    {
        public ValidateOptionsResult Validate(string? name, CatchUpLimitsOptions options) =>
            options.MaxConcurrentCatchUps + CatchUpLimitsOptions.PoolReserve <= poolSize
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(
                    $"Limits:MaxConcurrentCatchUps ({options.MaxConcurrentCatchUps}) plus {CatchUpLimitsOptions.PoolReserve} connections " +
                    $"for stream opens and the rest must fit in the connection pool catch-ups read from (Maximum Pool Size {poolSize}): " +
                    "lower the limit or raise Maximum Pool Size in the connection string (docs/deploy.md, connection budget).");
    }
}
