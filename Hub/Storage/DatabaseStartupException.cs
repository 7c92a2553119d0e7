namespace EventHub.Storage;

/// <summary>
/// The hub could not start on its database for a reason its message states in full, an operator's
/// matter (an address, a password, a setting) rather than a fault of the hub: the host logs a
/// failed start with the exception's <see cref="ToString"/>, so these print their type and message
/// without the thirty lines of stack a bug's report needs. The cause stays in
/// <see cref="Exception.InnerException"/>.
/// </summary>
public abstract class DatabaseStartupException(string message, Exception inner) : Exception(message, inner)
{
    public override string ToString() => $"{GetType().FullName}: {Message}";
}

/// <summary>The database stayed unreachable for all of <see cref="DatabaseStartupOptions.StartupWait"/>.</summary>
public sealed class DatabaseUnreachableException(string message, Exception inner) : DatabaseStartupException(message, inner);

/// <summary>
/// The database answered and refused the hub: a wrong password or user, a database that does not
/// exist, or a user that may not create the hub's tables. Waiting does not mend these.
/// </summary>
public sealed class DatabaseRefusedException(string message, Exception inner) : DatabaseStartupException(message, inner);
