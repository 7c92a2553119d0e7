namespace EventHub.Storage;

/// <summary>Settings of the private PostgreSQL cluster started when no connection string is configured.</summary>
public sealed class EmbeddedPostgresOptions
{
    public const string Section = "EmbeddedPostgres";

    /// <summary>
    /// Where the cluster lives (data, password, log). Null means <c>/var/lib/eventhub</c> when
    /// running as root, else <c>$XDG_DATA_HOME/eventhub</c> (<c>~/.local/share/eventhub</c>).
    /// It survives restarts: the same data is used next time.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>Directory of <c>initdb</c> and <c>pg_ctl</c>; null means search (see <see cref="PostgresBinaries"/>).</summary>
    public string? BinDirectory { get; set; }

    /// <summary>
    /// The unprivileged account that runs the server when the hub runs as root (PostgreSQL
    /// refuses to run as root). Null means <c>postgres</c>.
    /// </summary>
    public string? RunAsUser { get; set; }

    /// <summary>TCP port on 127.0.0.1; 0 or null picks a free one at each start.</summary>
    public int? Port { get; set; }

    /// <summary>Database to create and use. Null means <c>eventhub</c>.</summary>
    public string? Database { get; set; }
}
