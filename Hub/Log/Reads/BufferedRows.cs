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
/// a socket read. Catch-up, the tail and the state read stream thousands of rows that way (a
/// profile of the state read: two thirds of its time in those blocking reads). Here the
/// reader's <c>ReadAsync</c> brings in each row asynchronously, and the mapping runs on memory.
/// </remarks>
internal static class BufferedRows
{
    public static async Task<List<T>> QueryAsync<T>(DbConnection connection, CommandDefinition command)
    {
        var rows = new List<T>();
        await foreach (var row in StreamAsync<T>(connection, command))
            rows.Add(row);
        return rows;
    }

    /// <summary>The rows of a command built by the caller (a prepared statement, which Dapper does not make).</summary>
    public static async Task<List<T>> QueryAsync<T>(DbCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleResult, cancellationToken);
        await foreach (var row in ParseAsync<T>(reader, cancellationToken))
            rows.Add(row);
        return rows;
    }

    public static async IAsyncEnumerable<T> StreamAsync<T>(DbConnection connection, CommandDefinition command)
    {
        await using var reader = await connection.ExecuteReaderAsync(command, CommandBehavior.SingleResult);
        await foreach (var row in ParseAsync<T>(reader, command.CancellationToken))
            yield return row;
    }

    internal static async IAsyncEnumerable<T> ParseAsync<T>(DbDataReader reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var parse = reader.GetRowParser<T>();
        while (await reader.ReadAsync(cancellationToken))
            yield return parse(reader);
    }
}
