namespace EventHub.Retention;

/// <summary>
/// Drops the ticks before the one retention's cut is in. That tick stays: its end is still a valid
/// offset, and the ticker needs the newest tick.
/// </summary>
public static class PrunedTicksDeleteSql
{
    /// <summary>Parameter: <c>@tick</c>, the cut's tick.</summary>
    public const string Text = "DELETE FROM eventhub_tick WHERE tick_id < @tick";
}
