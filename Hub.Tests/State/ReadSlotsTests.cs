using EventHub.Log;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.State;

/// <summary>
/// <see cref="ReadSlots"/>: freed slots go round the callers that wait, each caller's reads in
/// arrival order; a cancelled wait leaves the queue and takes no slot, even racing a hand-over.
/// </summary>
public sealed class ReadSlotsTests
{
    [Fact]
    public async Task Freed_slots_go_round_the_waiting_callers_so_one_callers_queue_does_not_hold_back_another()
    {
        using var slots = new ReadSlots(1);
        await slots.EnterAsync("a", CancellationToken.None); // held
        var granted = new List<string>();
        using var grants = new SemaphoreSlim(0);
        Task Wait(string caller, string read) => slots.EnterAsync(caller, CancellationToken.None)
            .ContinueWith(_ => { lock (granted) granted.Add(read); grants.Release(); }, TaskContinuationOptions.ExecuteSynchronously);
        var waits = new[] { Wait("a", "a1"), Wait("a", "a2"), Wait("a", "a3"), Wait("b", "b1"), Wait("c", "c1"), Wait("b", "b2") };
        Assert.Equal(6, slots.Queued);

        for (var i = 0; i < waits.Length; i++)
        {
            slots.Exit(); // the read holding the slot ends
            Assert.True(await grants.WaitAsync(TaskTimeouts.Default), "no read was given the freed slot");
            lock (granted) Assert.Equal(i + 1, granted.Count); // one slot: one read at a time
        }
        await Task.WhenAll(waits).WithTimeout();
        // FIFO would give a1 a2 a3 b1 c1 b2.
        Assert.Equal(["a1", "b1", "c1", "a2", "b2", "a3"], granted);
        Assert.Equal(0, slots.Queued);
    }

    [Fact]
    public async Task Reads_without_a_caller_keep_their_arrival_order()
    {
        using var slots = new ReadSlots(1);
        await slots.EnterAsync(CancellationToken.None);
        var first = slots.EnterAsync(CancellationToken.None);
        var second = slots.EnterAsync(CancellationToken.None);
        slots.Exit();
        await first.WithTimeout();
        Assert.False(second.IsCompleted);
        slots.Exit();
        await second.WithTimeout();
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_queue_and_the_slot_goes_to_the_next_read()
    {
        using var slots = new ReadSlots(1);
        await slots.EnterAsync("a", CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = slots.EnterAsync("b", cancel.Token);
        var next = slots.EnterAsync("c", CancellationToken.None);
        Assert.Equal(2, slots.Queued);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WithTimeout());
        Assert.Equal(1, slots.Queued);
        slots.Exit();
        await next.WithTimeout();
        Assert.Equal(0, slots.Queued);
    }

    [Fact]
    public async Task A_cancellation_racing_a_hand_over_neither_loses_nor_doubles_a_slot()
    {
        using var slots = new ReadSlots(2);
        for (var round = 0; round < 2_000; round++)
        {
            await slots.EnterAsync("a", CancellationToken.None).WithTimeout(); // a slot lost in an earlier round would hang here
            await slots.EnterAsync("b", CancellationToken.None).WithTimeout();
            using var cancel = new CancellationTokenSource();
            var waiting = slots.EnterAsync("c", cancel.Token);
            // Both at once: the wait either gets the slot (and gives it back) or is cancelled (and
            // the slot is free). Either way both slots are free at the end of the round.
            await Task.WhenAll(Task.Run(() => slots.Exit()), Task.Run(() => cancel.Cancel()));
            try
            {
                await waiting.WithTimeout();
                slots.Exit();
            }
            catch (OperationCanceledException) { }
            slots.Exit();
            Assert.Equal(0, slots.Queued);
        }
        // Exactly two slots: two enter at once, a third waits.
        await slots.EnterAsync("x", CancellationToken.None).WithTimeout();
        await slots.EnterAsync("y", CancellationToken.None).WithTimeout();
        var third = slots.EnterAsync("z", CancellationToken.None);
        Assert.False(third.IsCompleted);
        slots.Exit();
        await third.WithTimeout();
    }
}
