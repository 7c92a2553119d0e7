using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Contracts;

namespace EventHub.Client.Tests;

/// <summary>
/// The .NET side of the one description of the event types (<c>Contracts/event-types.json</c>):
/// <see cref="EventTypes"/> lists its types, and each type's typed class reads every payload
/// field, and only those, into a property of the field's name and type. A type added to the
/// description fails here until its class exists (the TypeScript types are generated from it).
/// </summary>
public sealed class EventDescriptionTests
{
    private sealed record Field(string Name, string Type, bool Nullable, string? Values);
    private sealed record EventType(string Type, Field[] Payload);

    private static readonly EventType[] Description = Load();

    public static TheoryData<string> Types()
    {
        var data = new TheoryData<string>();
        foreach (var t in Description) data.Add(t.Type);
        return data;
    }

    [Fact]
    public void The_contracts_list_the_described_types_in_their_order() =>
        Assert.Equal(Description.Select(t => t.Type), EventTypes.All);

    [Theory]
    [MemberData(nameof(Types))]
    public void The_typed_class_reads_every_described_field_with_its_type_and_no_other(string type)
    {
        var described = Description.Single(t => t.Type == type);
        var sample = Sample(described);
        var typed = sample.ToTyped();
        Assert.IsAssignableFrom<TypedChangeEvent>(typed);

        // The payload properties: those the typed class hierarchy adds below TypedChangeEvent.
        var properties = typed.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.DeclaringType != typeof(TypedChangeEvent) && p.DeclaringType!.IsSubclassOf(typeof(TypedChangeEvent)))
            .ToDictionary(p => p.Name);
        Assert.Equal(described.Payload.Select(f => Pascal(f.Name)).Order(), properties.Keys.Order());

        var nullability = new NullabilityInfoContext();
        foreach (var field in described.Payload)
        {
            var property = properties[Pascal(field.Name)];
            Assert.True(ClrTypeMatches(field, property, nullability),
                $"{typed.GetType().Name}.{property.Name} is {property.PropertyType.Name} ({nullability.Create(property).ReadState}); " +
                $"the description says {field.Type}{(field.Nullable ? ", nullable" : "")}.");
            // The property holds the payload's value (compared as JSON: "text", 42, true).
            Assert.Equal(SampleValue(field).ToJsonString(), JsonSerializer.Serialize(property.GetValue(typed)));
        }
    }

    private static bool ClrTypeMatches(Field field, PropertyInfo property, NullabilityInfoContext nullability) => field.Type switch
    {
        "string" => property.PropertyType == typeof(string) &&
                    (nullability.Create(property).ReadState == NullabilityState.Nullable) == field.Nullable,
        "boolean" => property.PropertyType == (field.Nullable ? typeof(bool?) : typeof(bool)),
        "integer" => property.PropertyType == (field.Nullable ? typeof(int?) : typeof(int)),
        _ => false,
    };

    /// <summary>A distinct value per field: a string naming the field (or its set's first value), true, or a number.</summary>
    private static JsonNode SampleValue(Field field) => field.Type switch
    {
        "string" => JsonValue.Create(field.Values is null ? $"{field.Name}-value" : FirstValue(field.Values))!,
        "boolean" => JsonValue.Create(true),
        _ => JsonValue.Create(field.Name.Length + 40),
    };

    private static ChangeEvent Sample(EventType type)
    {
        var payload = new JsonObject();
        foreach (var field in type.Payload) payload[field.Name] = SampleValue(field);
        return new ChangeEvent
        {
            Seq = 1, ProjectId = "p", SessionId = "p-1", Type = type.Type, Offset = "opaque",
            Payload = JsonSerializer.SerializeToElement(payload), CreatedAt = DateTimeOffset.UnixEpoch,
        };
    }

    private static string Pascal(string name) => char.ToUpperInvariant(name[0]) + name[1..];

    private static string FirstValue(string set) =>
        JsonNode.Parse(File.ReadAllText(RepoFiles.PathOf(DescriptionFile)))!["valueSets"]![set]!["values"]![0]!.GetValue<string>();

    internal const string DescriptionFile = "Contracts/event-types.json";

    private static EventType[] Load()
    {
        var root = JsonNode.Parse(File.ReadAllText(RepoFiles.PathOf(DescriptionFile)))!;
        return root["types"]!.AsArray().Select(t => new EventType(
            t!["type"]!.GetValue<string>(),
            t["payload"]!.AsArray().Select(f => new Field(
                f!["name"]!.GetValue<string>(), f["type"]!.GetValue<string>(),
                f["nullable"]?.GetValue<bool>() ?? false, f["values"]?.GetValue<string>())).ToArray())).ToArray();
    }
}
