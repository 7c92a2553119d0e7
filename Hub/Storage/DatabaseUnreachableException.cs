namespace EventHub.Storage;

/// <summary>The database stayed unreachable for all of <see cref="DatabaseStartupOptions.StartupWait"/>.</summary>
public sealed class DatabaseUnreachableException(string message, Exception inner) : Exception(message, inner);
