using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Dapper;

namespace EventHub.Log;

/// <summary>
/// Dapper's row mapping over a reader that buffers each row whole (<see cref="CommandBehavior.Default"/>).
/// </summary>
/// <remarks>
/// Dapper's async queries open their readers with <see cref="CommandBehavior.SequentialAccess"/>:
/// Npgsql then reads a row's columns from the socket as they are asked for, and the mapper asks
/// synchronously, so every row that straddles Npgsql's read buffer blocked a thread-pool thread on
/// a socket read. The state read streams thousands of rows (a profile of it: two thirds of its
/// time in those blocking reads). Here the reader's <c>ReadAsync</c> brings in each row
/// asynchronously, and the mapping runs on memory. (The log's reads map their rows by hand,
/// <see cref="ChangeLogReader"/>: payloads as UTF-8 bytes, and rows past a page's payload bound
/// not mapped at all.)
/// </remarks>
internal static class BufferedRows
{
    internal static async IAsyncEnumerable<T> ParseAsync<T>(DbDataReader reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parse = reader.GetRowParser<T>();
        while (await reader.ReadAsync(cancellationToken))
            yield return parse(reader);
    }
}
