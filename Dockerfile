# EventHub hub: multi-stage build (SDK -> ASP.NET runtime).
# NOTE: not exercised on the project's machines (no Docker engine there); see docs/deploy.md.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props EventHub.sln ./
COPY Contracts/ Contracts/
COPY Contracts.MessagePack/ Contracts.MessagePack/
COPY Hub/ Hub/
RUN dotnet publish Hub/EventHub.Hub.csproj -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_ENVIRONMENT=Production \
    Urls=http://0.0.0.0:8080 \
    Logging__Console__FormatterName=json
EXPOSE 8080
USER $APP_UID
# Needs ConnectionStrings__EventHub (no embedded PostgreSQL in the image) and, on a network
# address, Auth__Mode=Token with a key source and Auth__Audience (open mode refuses to start),
# and Security__AllowedHosts__0=<the name clients use> (DNS-rebinding guard, docs/security.md).
ENTRYPOINT ["dotnet", "EventHub.Hub.dll"]
