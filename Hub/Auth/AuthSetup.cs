using System.Text;
using EventHub.Errors;
using EventHub.SignalR;
using EventHub.Sse;
using EventHub.Contracts;
using EventHub.Streaming;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace EventHub.Auth;

/// <summary>
/// Composition of authentication, per-project authorization, CORS and limits
/// (docs/security.md). <see cref="AddEventHubAuth"/> after the hub's services,
/// <see cref="UseEventHubAuth"/> before its endpoints.
/// </summary>
public static partial class AuthSetup
{
    public const string CorsPolicy = "EventHub";

    public static IServiceCollection AddEventHubAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section)).ValidateOnStart();
        services.AddOptions<LimitsOptions>().Configure(l => LimitsOptions.Bind(configuration.GetSection(LimitsOptions.Section), l))
            .Validate(l => l.MaxStreamsPerConnection > 0, "Limits:MaxStreamsPerConnection must be at least 1.")
            .Validate(l => l.MaxConnectionsPerPrincipal > 0, "Limits:MaxConnectionsPerPrincipal (formerly Limits:MaxConnectionsPerToken) must be at least 1.")
            .Validate(l => l.MaxConnectionsPerAddress > 0, "Limits:MaxConnectionsPerAddress must be at least 1.")
            .Validate(l => l.MaxHubMessageBytes >= 1024, "Limits:MaxHubMessageBytes must be at least 1024.")
            .ValidateOnStart();
        services.AddOptions<CorsSettings>().Bind(configuration.GetSection(CorsSettings.Section))
            .Validate(c => c.AllowedOrigins.All(o => o != "*" && ListenAddresses.IsOrigin(o)),
                "Cors:AllowedOrigins must list exact origins such as https://dashboard.example.com ('*' is not allowed: the hub's clients send credentials).")
            .ValidateOnStart();

        services.AddCrossSiteGuard(configuration); // cross-site WebSocket and DNS-rebinding guard
        services.AddSingleton<StreamAccess>();
        services.AddSingleton<ConnectionLimiter>();
        services.AddHostedService<AuthStartupReport>();

        // The hub's largest accepted message: a request names at most Stream:MaxProjects projects and
        // Stream:MaxTypes types (repeats count once, so a request with many repeats may be refused
        // by size first), and the default leaves room for any request without repeats.
        services.AddOptions<HubOptions<EventsHub>>().Configure<IOptions<LimitsOptions>>((hub, limits) =>
            hub.MaximumReceiveMessageSize = limits.Value.MaxHubMessageBytes);

        AddCors(services);
        DecorateServer(services);

        // The mode decides which services exist; it cannot change while the hub runs.
        var mode = configuration.GetSection(AuthOptions.Section).GetValue(nameof(AuthOptions.Mode), AuthMode.Open);
        if (mode == AuthMode.Token) AddJwtBearer(services);
        return services;
    }

    public static IApplicationBuilder UseEventHubAuth(this IApplicationBuilder app)
    {
        app.UseCors(CorsPolicy);
        var mode = app.ApplicationServices.GetRequiredService<IConfiguration>()
            .GetSection(AuthOptions.Section).GetValue(nameof(AuthOptions.Mode), AuthMode.Open);
        if (mode == AuthMode.Token)
        {
            app.UseAuthentication();
            app.Use(RequireAuthenticatedAsync);
        }
        return app;
    }

    private static bool IsProtected(PathString path) => DataPaths.Contains(path);

    /// <summary>
    /// Token mode: every request to the SSE endpoint, the live state and the hub (negotiate,
    /// connect, every transport: <see cref="DataPaths"/>) carries a valid token, or gets 401 with the JSON error body before it reaches them.
    /// </summary>
    private static async Task RequireAuthenticatedAsync(HttpContext context, RequestDelegate next)
    {
        if (!IsProtected(context.Request.Path) || context.User.Identity?.IsAuthenticated == true)
        {
            await next(context);
            return;
        }
        // The handler caches its result per request: this reads the failure, it does not validate again.
        var result = await context.AuthenticateAsync();
        var expired = result.Failure is SecurityTokenExpiredException;
        var (code, message) = expired
            ? (AccessErrorCodes.TokenExpired, "The token has expired. Reconnect with a fresh token and resume from the last offset you received.")
            : result.Failure is TokenContentException content
                ? (AccessErrorCodes.Unauthenticated, content.Message) // the hub's own words, never the token's
            : result.Failure is not null
                ? (AccessErrorCodes.Unauthenticated, "The bearer token was rejected (bad signature, issuer, audience, type or format). Send an access token issued for this hub.")
                : (AccessErrorCodes.Unauthenticated, "A bearer token is required: send 'Authorization: Bearer <token>' or, where headers cannot be set (EventSource, WebSocket), '?access_token=<token>'.");
        context.Response.Headers.WWWAuthenticate = result.Failure is null ? "Bearer" : $"Bearer error=\"invalid_token\"";
        await ApiError.Create(StatusCodes.Status401Unauthorized, code, message).ExecuteAsync(context);
    }

    private static void AddJwtBearer(IServiceCollection services)
    {
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<AuthOptions>, IOptions<StreamOptions>, ILoggerFactory>((jwt, auth, stream, loggers) =>
                ConfigureJwt(jwt, auth.Value, stream.Value, loggers.CreateLogger(typeof(AuthSetup).FullName!)));
    }

    private static void ConfigureJwt(JwtBearerOptions jwt, AuthOptions auth, StreamOptions stream, ILogger logger)
    {
        // Keep claim names as they are in the token; the hub itself reads only TokenContent's exact names.
        jwt.MapInboundClaims = false;
        var parameters = new TokenValidationParameters
        {
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateLifetime = true,
            ClockSkew = auth.ClockSkew,
            // Always: with a signing key against Auth:Issuer; with an authority (Auth:Authority or
            // Auth:MetadataAddress alone: both give the handler a configuration manager) against
            // the discovery document's issuer, plus Auth:Issuer when set. Without it, any issuer
            // trusted with the same key (or listed in the same JWKS) could open streams here.
            ValidateIssuer = true,
            ValidIssuer = string.IsNullOrEmpty(auth.Issuer) ? null : auth.Issuer,
            // Always (Auth:Audience is required): a token the issuer wrote for another service is not for this hub.
            ValidateAudience = true,
            RequireAudience = true,
            ValidAudience = auth.Audience,
            // Access tokens only: an ID token or a logout token signed by the same issuer is refused.
            ValidTypes = TokenAlgorithms.TokenTypes,
        };
        if (!string.IsNullOrEmpty(auth.SigningKey))
        {
            parameters.IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(auth.SigningKey));
            parameters.ValidateIssuerSigningKey = true;
            // Only HS256: a token may not choose its own algorithm ("none", or RS256 with our secret as a key).
            parameters.ValidAlgorithms = TokenAlgorithms.SigningKey;
        }
        else
        {
            jwt.Authority = string.IsNullOrEmpty(auth.Authority) ? null : auth.Authority;
            jwt.MetadataAddress = string.IsNullOrEmpty(auth.MetadataAddress) ? null! : auth.MetadataAddress;
            jwt.RequireHttpsMetadata = auth.RequireHttpsMetadata;
            // Asymmetric only: not HS256 with the authority's public key as the secret, nor a
            // symmetric key a JWKS might publish.
            parameters.ValidAlgorithms = auth.Algorithms.Length > 0 ? auth.Algorithms : TokenAlgorithms.AuthorityDefaults;
        }
        jwt.TokenValidationParameters = parameters;
        jwt.Events = new JwtBearerEvents
        {
            OnMessageReceived = context =>
            {
                // The header wins; otherwise the token that AccessTokenScrubbingServer took out of
                // the query, on the stream paths only (EventSource and WebSocket cannot set headers).
                if (string.IsNullOrEmpty(context.Request.Headers.Authorization) && IsProtected(context.Request.Path) &&
                    context.HttpContext.Features.Get<AccessTokenFeature>() is { } fromQuery)
                    context.Token = fromQuery.Token;
                return Task.CompletedTask;
            },
            OnTokenValidated = context =>
            {
                // What the hub uses of the token (principal, expiry, projects), read from the
                // validated token itself and kept in a typed identity the token cannot forge.
                try
                {
                    context.Principal!.AddIdentity(TokenContent.Read(context.SecurityToken, auth.ProjectsClaim, stream.MaxProjectIdLength));
                }
                catch (TokenContentException e)
                {
                    LogTokenRejected(logger, Observability.LogValue.Of(context.Request.Path), nameof(TokenContentException));
                    context.Fail(e);
                }
                return Task.CompletedTask;
            },
            OnAuthenticationFailed = context =>
            {
                // The exception's type only: its message can quote the token.
                LogTokenRejected(logger, Observability.LogValue.Of(context.Request.Path), context.Exception.GetType().Name);
                return Task.CompletedTask;
            },
        };
    }

    private static void AddCors(IServiceCollection services)
    {
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<CorsSettings>, IOptions<AuthOptions>>((cors, settings, auth) =>
            cors.AddPolicy(CorsPolicy, policy =>
            {
                // The configured origins; in open mode (a hub on loopback) also loopback pages (a
                // dashboard on localhost), which can do nothing a local process cannot. A token-mode
                // hub serves more than one person: no origin but the configured ones, as issue 6
                // asks ("none allowed by default outside open mode"); its own pages (the viewer) are
                // same-origin and need none.
                var origins = settings.Value.AllowedOrigins.ToHashSet(StringComparer.OrdinalIgnoreCase);
                var loopback = auth.Value.Mode == AuthMode.Open;
                policy.SetIsOriginAllowed(o => (loopback && ListenAddresses.IsLoopbackOrigin(o)) || origins.Contains(o));
                // SignalR's browser client sends credentials and its own headers; EventSource sends Last-Event-ID.
                policy.AllowAnyHeader().WithMethods("GET", "POST").AllowCredentials();
            }));
    }

    /// <summary>
    /// Wraps the server so that <c>access_token</c> leaves the query before the host logs it, and
    /// so that open mode refuses to run on a network address it was bound to by any means.
    /// </summary>
    private static void DecorateServer(IServiceCollection services)
    {
        var descriptor = services.LastOrDefault(d => d.ServiceType == typeof(IServer))
            ?? throw new InvalidOperationException("AddEventHubAuth must run after the web host has registered its server (Kestrel).");
        services.Remove(descriptor);
        services.AddSingleton<IServer>(sp =>
        {
            var server = descriptor.ImplementationInstance as IServer
                ?? (IServer?)descriptor.ImplementationFactory?.Invoke(sp)
                ?? (IServer)ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!);
            var auth = sp.GetRequiredService<IOptions<AuthOptions>>().Value;
            // Open mode checks what was actually bound, not only what was configured.
            var enforceLoopback = auth.Mode == AuthMode.Open && !auth.AllowOpenOnNetwork;
            return new LoopbackBindingGuardServer(new AccessTokenScrubbingServer(server), enforceLoopback);
        });
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "A bearer token for {Path} was rejected ({Reason}).")]
    private static partial void LogTokenRejected(ILogger logger, string path, string reason);
}
