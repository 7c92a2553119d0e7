namespace EventHub.State;

/// <summary>
/// Keys for event types the hub does not know (section <c>State:EntityKeys</c>), for example
/// <c>State:EntityKeys:tracker_created:Kind=tracker</c> and <c>State:EntityKeys:tracker_created:Fields:0=id</c>.
/// The built-in types are keyed by migration 0009; a type with no key is left out of the state.
/// </summary>
public sealed class EntityKeyOptions
{
    public const string Section = "State";

    public Dictionary<string, EntityKey> EntityKeys { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>An entity kind and the payload fields whose values key it.</summary>
public sealed class EntityKey
{
    public string Kind { get; set; } = "";
    public List<string> Fields { get; set; } = [];
}
