#:project ../clients/dotnet/EventHub.Client/EventHub.Client.csproj
#:property Configuration=Release
// The two properties: the script also runs clients older than fc1e06c, which need reflection-based JSON.
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
// What a slow application costs the .NET client in memory: it streams PROJECT from the start of
// the log (a catch-up of EVENTS events), reads the first event, then reads nothing for STALL
// seconds (an application busy elsewhere, or a pipe into something slow), then reads the rest.
// Prints the process's resident memory and GC heap after the stall, its peak resident memory
// (VmHWM) and how long the whole read took. The client's default settings.
//
//   dotnet run bench/client-slow-consumer.cs -- <hub base URL> PROJECT EVENTS [STALL]
//
// bench/client-slow-consumer.sh runs it for REF's client and this tree's against one hub.
using System.Diagnostics;
using EventHub.Client;

var hub = new Uri(args[0]);
var project = args[1];
var events = int.Parse(args[2]);
var stall = TimeSpan.FromSeconds(args.Length > 3 ? double.Parse(args[3]) : 5);

static long Status(string field) =>
    File.ReadLines("/proc/self/status").Where(l => l.StartsWith(field + ":")).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024).First();

await using var client = new EventHubClient(new EventHubClientOptions { HubUrl = hub, Projects = [project], StartAfter = "0" });
var clock = Stopwatch.StartNew();
await using var stream = client.ReadAllAsync().GetAsyncEnumerator();
if (!await stream.MoveNextAsync()) throw new InvalidOperationException("the stream ended");
await Task.Delay(stall); // the application reads nothing
GC.Collect();
var rss = Status("VmRSS");
var heap = GC.GetTotalMemory(forceFullCollection: false) / (1024 * 1024);
var read = 1;
while (read < events && await stream.MoveNextAsync()) read++;
Console.WriteLine($"read {read} events in {clock.Elapsed.TotalSeconds:F1} s (a {stall.TotalSeconds:F0} s stall after the first); " +
    $"after the stall: resident {rss} MiB, GC heap {heap} MiB; peak resident {Status("VmHWM")} MiB");
