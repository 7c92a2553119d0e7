-- The append-only change log. Ordering technique (docs/design.md): every row records the
-- id of the transaction that wrote it (tx_id); readers order by (tx_id, seq) and only read
-- rows whose transaction is older than the oldest transaction still running
-- (pg_snapshot_xmin). Such a transaction has ended, so no row can ever appear before the
-- reader's cursor: concurrent commits out of seq order and rollbacks cannot cause a skip.
CREATE TABLE change_log (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id      xid8 NOT NULL DEFAULT pg_current_xact_id(),
    project_id text NOT NULL,
    session_id text,
    event_type text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX change_log_position_idx ON change_log (tx_id, seq);
CREATE INDEX change_log_project_position_idx ON change_log (project_id, tx_id, seq);

-- The log is immutable: rows are only appended (and, later, pruned by retention).
CREATE FUNCTION change_log_forbid_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'change_log is append-only';
END $$;
CREATE TRIGGER change_log_append_only BEFORE UPDATE ON change_log
    FOR EACH ROW EXECUTE FUNCTION change_log_forbid_update();

-- Wake-up for tailing hubs. Identical notifications within one transaction collapse into
-- one, and NOTIFY is delivered only after commit: it never carries data, the log is the truth.
CREATE FUNCTION change_log_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eventhub_change_log', '');
    RETURN NULL;
END $$;
CREATE TRIGGER change_log_wake AFTER INSERT ON change_log
    FOR EACH STATEMENT EXECUTE FUNCTION change_log_notify();

-- The epoch names this log. Offsets carry it, so an offset from another database or from
-- before a restore into a fresh schema is recognised instead of silently misread.
CREATE TABLE eventhub_epoch (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO eventhub_epoch (epoch)
VALUES (substr(md5(random()::text || clock_timestamp()::text || txid_current()::text), 1, 10));
