#:property JsonSerializerIsReflectionEnabledByDefault=true
#:property PublishAot=false
// What the recent-events window holds per event, in a given build of the hub: the bytes that stay
// alive for each of 20,000 events made as the database reader makes them (strings are new instances
// per row, as Npgsql returns them) once their encodings are built.
//
//   dotnet run bench/event-bytes.cs -- <directory of EventHub.Hub.dll> [sse|json|msgpack]
//
// sse: the SSE frame only; json: also SignalR's shared event (the JSON protocol writes its JSON);
// msgpack: also its MessagePack form. The build is loaded by reflection, so two builds (one checked
// out elsewhere) are measured by the same program. A build whose readers share repeated strings
// (project, session, type) holds ~120 bytes less per event than this reports: here every event
// gets strings of its own.
using System.Buffers;
using System.Reflection;
using System.Runtime.Loader;

var dir = Path.GetFullPath(args[0]);
var mode = args.Length > 1 ? args[1] : "sse";
AssemblyLoadContext.Default.Resolving += (context, name) =>
{
    var path = Path.Combine(dir, name.Name + ".dll");
    return File.Exists(path) ? context.LoadFromAssemblyPath(path) : null;
};
var hub = AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.Combine(dir, "EventHub.Hub.dll"));
var logEvent = hub.GetType("EventHub.Log.LogEvent")!;
var position = hub.GetType("EventHub.Log.LogPosition")!;
var frames = hub.GetType("EventHub.Sse.SseEventFrames")!;
var constructor = logEvent.GetConstructors().First(c => c.GetParameters()[6].ParameterType == typeof(string));
var frameOf = frames.GetMethod("Of"); // builds before e15ca30 kept the whole frame
var frameWrite = frames.GetMethod("Write");
var cacheType = hub.GetType("EventHub.SignalR.Internal.ChangeEventCache")!;
var cache = Activator.CreateInstance(cacheType)!;
var sharedOf = cacheType.GetMethod("Get", BindingFlags.NonPublic | BindingFlags.Instance)!;

const int Events = 20_000;
const string Payload = """{"url": "https://github.com/acme/app/pull/1234", "session": "bench-17", "state": "open", "ci": "passing", "review": "none", "mergeability": "mergeable"}""";
var kept = new object[Events];
var sink = new ArrayBufferWriter<byte>();
var before = LiveBytes();
for (var i = 0; i < Events; i++)
{
    var e = constructor.Invoke([Activator.CreateInstance(position, [(long)(i / 10 + 1), (ulong)(1000 + i), (long)(i + 1)]),
        $"0123abcdef-{i + 1:x}-{i + 1:x}", (long)(i + 1), Fresh("bench"), Fresh("bench-17"), Fresh("pr_updated"), Fresh(Payload),
        DateTimeOffset.UtcNow]);
    if (frameOf is not null) frameOf.Invoke(null, [e]);
    else frameWrite!.Invoke(null, [sink, e]);
    sink.Clear();
    if (mode is "json" or "msgpack")
    {
        var shared = sharedOf.Invoke(cache, [e])!;
        if (mode == "msgpack") shared.GetType().GetProperty("MessagePack")!.GetValue(shared);
    }
    kept[i] = e;
}
var after = LiveBytes();
Console.WriteLine($"{dir} ({mode}): {(after - before) / (double)Events:F0} bytes per event, payload of {Payload.Length} characters");
GC.KeepAlive(kept);

static string Fresh(string s) => new(s.AsSpan());

static long LiveBytes()
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    return GC.GetTotalMemory(forceFullCollection: true);
}
