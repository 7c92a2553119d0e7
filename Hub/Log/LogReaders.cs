namespace EventHub.Log;

/// <summary>
/// Keys of the <see cref="IChangeLogReader"/> services. The unkeyed reader reads the primary (the
/// epoch, the horizon for offset checks, the snapshot for "from now"); the tail and catch-ups use
/// the keyed ones, which are the replica reader when one is configured.
/// </summary>
public static class LogReaders
{
    public const string Replica = "replica";
    public const string CatchUp = "catch-up";
    public const string Tail = "tail";
}
