using System.Text;
using System.Threading.Channels;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests.Infrastructure;

/// <summary>A TextWriter that hands each complete line to the test as it is written.</summary>
public sealed class LineWriter : TextWriter
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _partial = new();
    private readonly List<string> _all = [];

    public override Encoding Encoding => Encoding.UTF8;

    public IReadOnlyList<string> Lines
    {
        get { lock (_partial) return _all.ToArray(); }
    }

    public override void Write(char value)
    {
        lock (_partial)
        {
            if (value == '\n')
            {
                var line = _partial.ToString().TrimEnd('\r');
                _partial.Clear();
                _all.Add(line);
                _lines.Writer.TryWrite(line);
            }
            else _partial.Append(value);
        }
    }

    public override void Write(string? value)
    {
        foreach (var c in value ?? "") Write(c);
    }

    public override Task WriteLineAsync(string? value)
    {
        WriteLine(value);
        return Task.CompletedTask;
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<List<string>> ReadLinesAsync(int count)
    {
        var list = new List<string>(count);
        for (var i = 0; i < count; i++) list.Add(await _lines.Reader.ReadAsync().AsTask().WithTimeout());
        return list;
    }
}
