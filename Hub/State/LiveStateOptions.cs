namespace EventHub.State;

/// <summary>
/// The live state's durable side (section <c>State</c>; migration 0016): how often its base is
/// brought up to the newest tick, and how often the hub looks whether a crash emptied the state.
/// </summary>
public sealed class LiveStateOptions
{
    public const string Section = "State";

    /// <summary>
    /// How often the base is folded forward to the newest tick (<see cref="LiveStateUpkeep"/>), on top
    /// of retention, which folds what it prunes first. After a crash the state is rebuilt from the
    /// base and the log's rows since its mark (~3 s per 500,000 rows, docs/live-state.md;
    /// ticks go on, the state read waits); each pass writes one row per entity changed since the last.
    /// 0 leaves it to retention alone.
    /// </summary>
    public TimeSpan BaseInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How often each hub looks whether the state is whole (one probe of a one-row table) and, after
    /// a crash emptied it, rebuilds it, so it is ready before the next state read asks; and folds
    /// the ticks made since its last pass (no tick folds itself: migration 0022). A state read in
    /// between reads those ticks itself when they are few (LiveStateReader.PendingRows), and
    /// otherwise answers as of the ticks already folded (exact, only older).
    /// </summary>
    public TimeSpan RebuildCheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}
