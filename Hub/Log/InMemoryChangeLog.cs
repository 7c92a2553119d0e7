using System.Text.Json;

namespace EventHub.Log;

/// <summary>
/// An in-memory <see cref="IChangeLogReader"/> with the same contract as the PostgreSQL one, for
/// unit tests and benchmarks: transactions get increasing ids when they begin, their rows become
/// visible when they commit, and a read returns only rows of transactions older than the oldest
/// one still open. Thread-safe. Its epoch must have the form of a real one (<see cref="Offset.IsEpoch"/>).
/// </summary>
public sealed class InMemoryChangeLog(string epoch = "0000e0e0e0") : IChangeLogReader
{
    private readonly Lock _gate = new();
    private readonly List<LogEvent> _rows = [];          // committed, in position order
    private readonly SortedSet<ulong> _open = [];
    private ulong _nextXid = 100;
    private long _nextSeq = 1;

    public string Epoch => epoch;

    /// <summary>Appends one event in a transaction of its own and commits it.</summary>
    public LogEvent Append(string project, string type, object? payload = null, string? session = null)
    {
        var tx = Begin();
        var e = tx.Add(project, type, payload, session);
        tx.Commit();
        return e;
    }

    public Transaction Begin()
    {
        lock (_gate)
        {
            var xid = _nextXid++;
            _open.Add(xid);
            return new Transaction(this, xid);
        }
    }

    public ValueTask<string> GetEpochAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(epoch);

    public Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, int limit, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var finalBefore = _open.Count > 0 ? _open.Min : _nextXid;
            var events = _rows
                .Where(e => e.Position > after && e.Position.TransactionId < finalBefore && filter.Matches(e))
                .Take(limit)
                .ToList();
            var heldBack = _rows.Any(e => e.Position.TransactionId >= finalBefore);
            return Task.FromResult(new LogBatch(events, finalBefore, heldBack));
        }
    }

    public Task<LogPosition> GetHeadAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var finalBefore = _open.Count > 0 ? _open.Min : _nextXid;
            var last = _rows.LastOrDefault(e => e.Position.TransactionId < finalBefore);
            return Task.FromResult(last?.Position ?? LogPosition.Start);
        }
    }

    public Task<IReadOnlyList<LogEvent>> ReadLastAsync(LogPosition head, int count, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<LogEvent>>(_rows.Where(e => e.Position <= head).TakeLast(count).ToList());
    }

    public Task<LogSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult(new LogSnapshot(_open.Count > 0 ? _open.Min : _nextXid, _nextXid, _open.ToHashSet()));
    }

    public Task<LogHorizon> GetHorizonAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(new LogHorizon(_nextXid, _nextSeq - 1));
    }

    /// <summary>An open transaction: its rows take seqs now and become visible at <see cref="Commit"/>.</summary>
    public sealed class Transaction
    {
        private readonly InMemoryChangeLog _log;
        private readonly List<LogEvent> _pending = [];

        internal Transaction(InMemoryChangeLog log, ulong xid)
        {
            _log = log;
            TransactionId = xid;
        }

        public ulong TransactionId { get; }

        public LogEvent Add(string project, string type, object? payload = null, string? session = null)
        {
            lock (_log._gate)
            {
                var position = new LogPosition(TransactionId, _log._nextSeq++);
                var e = new LogEvent(position, Offset.Format(_log.Epoch, position), position.Seq, project, session, type,
                    JsonSerializer.Serialize(payload ?? new { }), DateTimeOffset.UtcNow);
                _pending.Add(e);
                return e;
            }
        }

        public void Commit() => End(commit: true);
        public void Rollback() => End(commit: false);

        private void End(bool commit)
        {
            lock (_log._gate)
            {
                _log._open.Remove(TransactionId);
                if (!commit) return;
                _log._rows.AddRange(_pending);
                _log._rows.Sort((a, b) => a.Position.CompareTo(b.Position));
            }
        }
    }
}
