namespace EventHub.Tests.Infrastructure;

/// <summary>
/// A read-only pass-through stream that counts the lines starting with <c>:</c> (Server-Sent
/// Events comments) in what is read through it. <see cref="System.Net.ServerSentEvents.SseParser"/>
/// parses the stream but skips comments by design (the spec dispatches nothing for them), and the
/// hub's keep-alive is a comment, so the SSE test client observes them here, one byte test per
/// line start, instead of parsing the stream a second time.
/// </summary>
public sealed class CommentCountingStream(Stream inner, Action onComment) : Stream
{
    private bool _atLineStart = true;

    public override int Read(byte[] buffer, int offset, int count) => Observe(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

    public override int Read(Span<byte> buffer) => Observe(buffer[..inner.Read(buffer)]);

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Observe(buffer.AsSpan(offset, await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken)));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        return Observe(buffer.Span[..read]);
    }

    private int Observe(ReadOnlySpan<byte> read)
    {
        foreach (var b in read)
        {
            if (_atLineStart && b == (byte)':') onComment();
            _atLineStart = b is (byte)'\n' or (byte)'\r';
        }
        return read.Length;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
