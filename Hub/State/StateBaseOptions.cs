namespace EventHub.State;

/// <summary>
/// The live state's durable base (section <c>State</c>; migration 0016): how often it is brought up
/// to the newest tick, which bounds what a rebuild after a crash reads.
/// </summary>
public sealed class StateBaseOptions
{
    public const string Section = "State";

    /// <summary>
    /// How often the base is folded forward to the newest tick (<see cref="StateBaseUpkeep"/>), on top
    /// of retention, which folds what it prunes first. After a crash the state is rebuilt from the
    /// base and the log's rows since its mark, with ticks held meanwhile (~3 s per 500,000 rows,
    /// docs/design.md "Live state"); each pass writes one row per entity changed since the last.
    /// 0 leaves it to retention alone.
    /// </summary>
    public TimeSpan BaseInterval { get; set; } = TimeSpan.FromMinutes(5);
}
