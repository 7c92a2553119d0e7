using System.Diagnostics;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using EventHub.Tests.Operations;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventHub.Tests.Ticks;

/// <summary>
/// An idle hub reads the log only when a tick is announced, plus its fallback poll: neither the
/// tail nor a caught-up stream spins on "no tick after mine" (a first version took that for "not
/// complete" and read again at once: about 1,000 tail reads a second on an idle hub, found by
/// the bench as a hub that never went idle).
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class IdleTests
{
    [Fact]
    public async Task With_nothing_written_the_tail_and_a_caught_up_stream_make_almost_no_reads()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await db.Writer.SessionAsync("ao", 1);
        CountingReader? tail = null, catchUp = null;
        await using var hub = await HubServer.StartAsync(db.ConnectionString, services: s =>
        {
            s.WrapTailReader(inner => tail = new CountingReader(inner));
            s.AddKeyedSingleton<IChangeLogReader>(LogReaders.CatchUp, (sp, _) =>
                catchUp = new CountingReader(new ChangeLogReader(sp.GetRequiredService<NpgsqlDataSource>())));
        });
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0&project=ao");
        Assert.Equal("ao-1", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString()); // caught up, now live

        var (tailBefore, catchUpBefore) = (tail!.Reads, catchUp!.Reads);
        var window = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(2)); // a window to count in, not a synchronisation
        var (tailReads, catchUpReads) = (tail.Reads - tailBefore, catchUp.Reads - catchUpBefore);
        Assert.True(tailReads <= 6, $"the idle tail read the log {tailReads} times in {window.Elapsed.TotalSeconds:F1} s");
        Assert.True(catchUpReads <= 1, $"a caught-up stream read the log {catchUpReads} times in {window.Elapsed.TotalSeconds:F1} s");

        await db.Writer.SessionAsync("ao", 2);
        Assert.Equal("ao-2", (await sse.ReadEventAsync()).Payload.GetProperty("id").GetString());
    }
}
