#:project ../clients/dotnet/EventHub.Client/EventHub.Client.csproj
#:property Configuration=Release
// The two properties: the script also runs clients older than fc1e06c, which need reflection-based JSON.
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
// What fetching a project's live state costs the .NET client: ROUNDS calls of GetStateAsync (each
// opens its own connection, as the client does) after WARM calls not counted, over PROTOCOL (json
// or msgpack). Prints the entities, p50 / p90 of the wall time, and the client process's CPU time
// and allocated bytes per fetch (means), so a client change is seen apart from the hub's and the
// database's share of the wall time.
//
//   dotnet run bench/client-state-fetch.cs -- <hub base URL> PROJECT [ROUNDS] [PROTOCOL] [WARM]
//
// bench/client-state-fetch.sh runs it for REF's client and this tree's against one hub.
using System.Diagnostics;
using EventHub.Client;

var hub = new Uri(args[0]);
var project = args[1];
var rounds = args.Length > 2 ? int.Parse(args[2]) : 30;
var protocol = args.Length > 3 && args[3] == "msgpack" ? EventHubProtocol.MessagePack : EventHubProtocol.Json;
var warm = args.Length > 4 ? int.Parse(args[4]) : 5;

await using var client = new EventHubClient(new EventHubClientOptions { HubUrl = hub, Projects = [project], Protocol = protocol });
var process = Process.GetCurrentProcess();
var walls = new List<double>();
double cpu = 0, allocated = 0;
var gcs0 = 0; var pause0 = TimeSpan.Zero;
var entities = 0;
for (var i = 0; i < warm + rounds; i++)
{
    process.Refresh();
    var cpu0 = process.TotalProcessorTime;
    var bytes0 = GC.GetTotalAllocatedBytes(precise: false);
    var clock = Stopwatch.StartNew();
    var state = await client.GetStateAsync();
    var wall = clock.Elapsed.TotalMilliseconds;
    process.Refresh();
    entities = state.Entities.Count;
    if (i < warm) { gcs0 = GC.CollectionCount(0); pause0 = GC.GetTotalPauseDuration(); continue; }
    walls.Add(wall);
    cpu += (process.TotalProcessorTime - cpu0).TotalMilliseconds;
    allocated += GC.GetTotalAllocatedBytes(precise: false) - bytes0;
}
walls.Sort();
double At(double q) => walls[Math.Min(walls.Count - 1, (int)Math.Ceiling(q * walls.Count) - 1)];
Console.WriteLine($"{entities} entities, {protocol}: wall p50 {At(0.5):F1} ms, p90 {At(0.9):F1} ms; client CPU {cpu / rounds:F1} ms, allocated {allocated / rounds / 1e6:F1} MB per fetch ({rounds} fetches); gen0 GCs {(GC.CollectionCount(0) - gcs0) / (double)rounds:F1}, GC pause {(GC.GetTotalPauseDuration() - pause0).TotalMilliseconds / rounds:F1} ms per fetch");
