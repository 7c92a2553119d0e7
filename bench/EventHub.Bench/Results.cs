namespace EventHub.Bench;

public sealed record LatencyCell(
    string Server, string Transport, int Subscribers, int SubscribersConnected, int TargetRate, double AchievedRate,
    long Written, long Expected, long Received, long Lost, bool Drained,
    double P50Ms, double P99Ms, double MaxMs, double DeliveriesPerSecond, double HubCpuSeconds,
    double DeliveriesPerCpuSecond, double WallSeconds, double BenchCpuSeconds,
    double FirstP50Ms = 0, double FirstP99Ms = 0, double SpreadP50Ms = 0, double SpreadP99Ms = 0, double BenchGcPauseMs = 0,
    string HubGc = "", string Checkpoints = "", string Slowest = "");

public sealed record FanoutCapacity(string Server, string Transport, double DeliveriesPerSecond, string AtCell,
    double DeliveriesPerCpuSecond, string BestPerCpuCell, string Note);

public sealed record CatchUpResult(string Server, string Transport, int Clients, long LogEvents, long Received,
    double Seconds, bool Completed, double EventsPerSecond, double EventsPerSecondPerClient, double HubCpuSeconds,
    string Conditions = "quiet", int Pass = 0);

public sealed record MemoryResult(string Server, string Transport, int Subscribers, int Connected, long RssBaselineBytes,
    long RssBytes, double BytesPerSubscriber);

public sealed record DbLoadResult(string Server, int Subscribers, int Connected, int WriteRate, double Seconds,
    long Statements, double StatementsPerSecond, long Transactions, double TransactionsPerSecond);

public sealed record WriteCostResult(string Table, bool Triggers, string SynchronousCommit, int Writers, double Seconds,
    long Inserts, double InsertsPerSecond, double HubCpuSeconds, bool Notify = false,
    double WriterSessionsCpuSeconds = 0, double HubSessionsCpuSeconds = 0, long WalBytes = 0);

public sealed record TargetResult(string Name, string Target, string Actual, bool? Met, string Note);

public sealed class BenchResults
{
    public string Date { get; set; } = "";
    public string StartedUtc { get; set; } = "";
    public double DurationSeconds { get; set; }
    public string Mode { get; set; } = "";
    public string Command { get; set; } = "";
    public Dictionary<string, object> Machine { get; set; } = [];
    public Dictionary<string, string> Versions { get; set; } = [];
    public Dictionary<string, object> Parameters { get; set; } = [];
    public List<double[]> LoadAverages { get; set; } = [];
    public List<LatencyCell> Latency { get; set; } = [];
    public List<FanoutCapacity> Fanout { get; set; } = [];
    public List<CatchUpResult> CatchUp { get; set; } = [];
    public List<MemoryResult> Memory { get; set; } = [];
    public List<DbLoadResult> DatabaseLoad { get; set; } = [];
    public List<WriteCostResult> WriteCost { get; set; } = [];
    public List<StateResult> State { get; set; } = [];
    public List<StateWayResult> StateWays { get; set; } = [];
    public List<TargetResult> Targets { get; set; } = [];
    public List<string> Notes { get; set; } = [];
    /// <summary>Set by a comparison run (--compare-dll) only.</summary>
    public CompareResults? Comparison { get; set; }
}
