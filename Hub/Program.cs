using EventHub;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

var app = await EventHubApp.BuildAsync(args);
app.Lifetime.ApplicationStarted.Register(() =>
{
    var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
    if (address is null) return;
    Console.WriteLine();
    Console.WriteLine($"EventHub is listening on {address}. Watch the stream with:");
    Console.WriteLine($"  curl -N '{address}/api/v1/events?after=0'");
    Console.WriteLine();
});
await app.RunAsync();

/// <summary>Entry point (public for the tests).</summary>
public partial class Program;
