namespace EventHub.Retention;

/// <summary>
/// Records the last pruned position in <c>eventhub_retention</c>, in the pruning transaction: every
/// log read returns it, so an offset at or before it gets the reset signal, never a silent gap. It
/// only moves forward (two nodes pruning one after the other never move it back).
/// </summary>
public static class PrunedThroughSql
{
    /// <summary>Parameters: <c>@tick</c>, <c>@xid</c> (as text), <c>@seq</c>.</summary>
    public const string Text = """
        UPDATE eventhub_retention
        SET pruned_through_tick = @tick, pruned_through_xid = @xid::xid8, pruned_through_seq = @seq, pruned_at = now()
        WHERE (pruned_through_tick, pruned_through_xid, pruned_through_seq) < (@tick, @xid::xid8, @seq)
        """;
}
