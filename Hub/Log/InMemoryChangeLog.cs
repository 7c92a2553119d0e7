using System.Text.Json;

namespace EventHub.Log;

/// <summary>
/// An in-memory <see cref="IChangeLogReader"/> with the same contract as the PostgreSQL one, for
/// unit tests and benchmarks: transactions get increasing ids when they begin, their rows become
/// visible when they commit, and a tick (made at every commit, or by <see cref="Tick"/> when
/// <c>tickOnCommit</c> is off) takes every committed row that is in no tick yet, in
/// <c>(tx_id, seq)</c> order. Thread-safe. Its epoch must have the form of a real one
/// (<see cref="Offset.IsEpoch"/>).
/// </summary>
public sealed class InMemoryChangeLog(string epoch = "0000e0e0e0", bool tickOnCommit = true) : IChangeLogReader
{
    private readonly Lock _gate = new();
    private readonly List<LogEvent> _rows = [];            // ticked, in position order
    private readonly List<PendingRow> _committed = [];     // committed, in no tick yet
    private ulong _nextXid = 100;
    private long _nextSeq = 1;
    private long _tick = 1;                                // the first tick, empty, as migration 0007 makes it

    public string Epoch => epoch;

    /// <summary>Raised with the new tick's id after a tick is made, as the ticker's NOTIFY announces it.</summary>
    public event Action<long>? Ticked;

    /// <summary>Appends one event in a transaction of its own and commits it.</summary>
    public LogEvent Append(string project, string type, object? payload = null, string? session = null)
    {
        var tx = Begin();
        tx.Add(project, type, payload, session);
        tx.Commit();
        lock (_gate) return _rows.Last(e => e.Seq == tx.LastSeq);
    }

    public Transaction Begin()
    {
        lock (_gate) return new Transaction(this, _nextXid++);
    }

    /// <summary>Makes a tick of every committed row in none yet; returns the newest tick.</summary>
    public long Tick()
    {
        long made;
        lock (_gate)
        {
            if (_committed.Count == 0) return _tick;
            _tick++;
            foreach (var r in _committed.OrderBy(r => r.Xid).ThenBy(r => r.Seq))
            {
                var position = new LogPosition(_tick, r.Xid, r.Seq);
                _rows.Add(new LogEvent(position, Offset.Format(epoch, position), r.Seq, r.Project, r.Session, r.Type, r.Payload, r.CreatedAt));
            }
            _committed.Clear();
            made = _tick;
        }
        Ticked?.Invoke(made);
        return made;
    }

    public ValueTask<string> GetEpochAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(epoch);

    public Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var events = new List<LogEvent>();
            long bytes = 0;
            foreach (var e in _rows.Where(e => e.Position > after && filter.Matches(e)))
            {
                if (!limit.Admits(events.Count, bytes, e.PayloadSize))
                    return Task.FromResult(new LogBatch(events, events[^1].Position, Complete: false));
                bytes += e.PayloadSize;
                events.Add(e);
            }
            return Task.FromResult(new LogBatch(events, LogPosition.Max(after, LogPosition.EndOf(_tick)), Complete: true));
        }
    }

    public Task<long> GetHeadTickAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_tick);
    }

    public Task<RecentRows> ReadLastAsync(long throughTick, int count, long maxPayloadBytes, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var newestFirst = new List<LogEvent>();
            long bytes = 0;
            foreach (var e in _rows.Where(e => e.Position.Tick <= throughTick).Reverse())
            {
                bytes += e.PayloadSize;
                if (newestFirst.Count + 1 >= count || bytes > maxPayloadBytes)
                    return Task.FromResult(new RecentRows(Enumerable.Reverse(newestFirst).ToList(), e.Position));
                newestFirst.Add(e);
            }
            return Task.FromResult(new RecentRows(Enumerable.Reverse(newestFirst).ToList(), LogPosition.Start));
        }
    }

    public Task<OffsetLookup> LookUpAsync(ParsedOffset offset, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (offset.Kind == OffsetKind.Beginning) return Task.FromResult(new OffsetLookup(OffsetLookupResult.Found, LogPosition.Start));
            if (offset.Kind == OffsetKind.Legacy) return Task.FromResult(new OffsetLookup(OffsetLookupResult.FormatChanged, default));
            if (offset.Tick > _tick) return Task.FromResult(new OffsetLookup(OffsetLookupResult.BeyondHead, default));
            if (offset.Kind == OffsetKind.TickEnd) return Task.FromResult(new OffsetLookup(OffsetLookupResult.Found, LogPosition.EndOf(offset.Tick)));
            var row = _rows.FirstOrDefault(e => e.Seq == offset.Seq && e.Position.Tick == offset.Tick);
            return Task.FromResult(row is null
                ? new OffsetLookup(OffsetLookupResult.NoSuchEvent, default)
                : new OffsetLookup(OffsetLookupResult.Found, row.Position));
        }
    }

    public Task<long> TickNowAsync(CancellationToken cancellationToken = default) => Task.FromResult(Tick());

    private sealed record PendingRow(ulong Xid, long Seq, string Project, string? Session, string Type, string Payload, DateTimeOffset CreatedAt);

    /// <summary>An open transaction: its rows take seqs now and become visible at <see cref="Commit"/>.</summary>
    public sealed class Transaction
    {
        private readonly InMemoryChangeLog _log;
        private readonly List<PendingRow> _pending = [];

        internal Transaction(InMemoryChangeLog log, ulong xid)
        {
            _log = log;
            TransactionId = xid;
        }

        public ulong TransactionId { get; }

        /// <summary>The seq of the last row added.</summary>
        public long LastSeq { get; private set; }

        /// <summary>Adds a row; returns its seq (its position is known once a tick takes it).</summary>
        public long Add(string project, string type, object? payload = null, string? session = null)
        {
            lock (_log._gate)
            {
                LastSeq = _log._nextSeq++;
                _pending.Add(new PendingRow(TransactionId, LastSeq, project, session, type,
                    JsonSerializer.Serialize(payload ?? new { }), DateTimeOffset.UtcNow));
                return LastSeq;
            }
        }

        public void Commit()
        {
            lock (_log._gate) _log._committed.AddRange(_pending);
            if (_log._tickOnCommit) _log.Tick();
        }

        public void Rollback() => _pending.Clear();
    }

    private readonly bool _tickOnCommit = tickOnCommit;
}
