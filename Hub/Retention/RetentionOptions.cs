namespace EventHub.Retention;

/// <summary>Optional pruning of <c>change_log</c> (section <c>Retention</c>). Off unless a limit is set.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Prune events older than this. Null: no age limit.</summary>
    public TimeSpan? MaxAge { get; set; }

    /// <summary>Keep at most this many events. Null: no size limit.</summary>
    public long? MaxEvents { get; set; }

    /// <summary>How often to check.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Most rows deleted per transaction; a cycle repeats until nothing is left to prune.</summary>
    public int BatchSize { get; set; } = 10_000;

    public bool Enabled => MaxAge is not null || MaxEvents is not null;
}
