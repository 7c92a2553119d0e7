using System.Reflection;
using Microsoft.Extensions.Logging;
using Xunit.Sdk;

[assembly: EventHub.Tests.Infrastructure.HubTestLog.LabelHubsWithTheirTest]

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// The test hubs' logs, in the file <c>EVENTHUB_TEST_LOG</c> names (scripts/test.sh sets it and
/// prints a failed test's lines): the hub's own from Information, the framework's and Npgsql's
/// warnings, each line labelled with the test that started the hub. Test hubs log nowhere else, so
/// what only the hub saw (a read's exception, a stream it ended) left no trace of a failure in CI:
/// ClosedSessionTests failed there now and then for two stops before this log showed why.
/// </summary>
public sealed class HubTestLog(string test) : ILoggerProvider
{
    public const string Variable = "EVENTHUB_TEST_LOG";

    private static readonly AsyncLocal<string?> CurrentTest = new();
    // One writer for the process: every test's hubs append to the same file, a line at a time.
    private static readonly Lazy<TextWriter?> File = new(() => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path
        ? TextWriter.Synchronized(new StreamWriter(path, append: true) { AutoFlush = true })
        : null);

    /// <summary>Adds the log to a test hub's logging when <see cref="Variable"/> names a file.</summary>
    public static void AddTo(ILoggingBuilder logging)
    {
        if (File.Value is null) return;
        logging.AddProvider(new HubTestLog(CurrentTest.Value ?? "no test"));
        // Its own levels (IsEnabled), not the hub's rules; but for SignalR's dispatcher and connection
        // handler, which the hub silences for every provider with rules of its own
        // (ServerErrorHubFilterSetup.SilencedCategories), as in production.
        logging.AddFilter<HubTestLog>(_ => true);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(File.Value!, test, categoryName,
        categoryName.StartsWith("EventHub", StringComparison.Ordinal) ? LogLevel.Information : LogLevel.Warning);

    public void Dispose() { }

    private sealed class Logger(TextWriter file, string test, string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var text = $"{DateTime.UtcNow:HH:mm:ss.fff} [{test}] {logLevel} {category}: {formatter(state, exception)}";
            if (exception is not null) text += Environment.NewLine + exception;
            file.WriteLine(text.Replace("\n", "\n    ")); // a line of its own per entry, the rest indented
        }
    }

    /// <summary>Names the test whose hubs are starting (an async local: parallel tests each see their own).</summary>
    [AttributeUsage(AttributeTargets.Assembly)]
    public sealed class LabelHubsWithTheirTestAttribute : BeforeAfterTestAttribute
    {
        public override void Before(MethodInfo methodUnderTest) => CurrentTest.Value = $"{methodUnderTest.DeclaringType?.FullName}.{methodUnderTest.Name}";
        public override void After(MethodInfo methodUnderTest) => CurrentTest.Value = null;
    }
}
