namespace EventHub.Tests.Infrastructure;

/// <summary>The hub protocols a client can speak.</summary>
public enum WireProtocol { Json, MessagePack }
