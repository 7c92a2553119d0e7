-- An epoch names one log, and an offset is only meaningful in the log that issued it. A copy of
-- the database holds the same epoch row but is another log from the moment it was made: a dump
-- restored into another database or cluster, CREATE DATABASE ... TEMPLATE, a point-in-time
-- recovery, a standby promoted after a failover. Its ticks and seqs go on from the copy's point
-- and soon name other events than the original's (or, after a failover, events the promoted
-- server never had), so a client resuming with an offset from before the copy would continue
-- silently at the wrong place, or be refused for good.
--
-- So the epoch row records where it was minted: the cluster's system identifier (initdb's, kept
-- by physical copies), the database's OID (a restore or a template copy makes a new database)
-- and the WAL timeline (a promotion or a point-in-time recovery starts a new one). At every start
-- the hub calls eventhub_confirm_epoch() under its migration lock: when the database is not where
-- its epoch was minted, the log gets a new epoch, and every offset from before is answered with
-- the reset signal (offset_from_another_log) instead of being read as this log's.
--
-- Not detected: a physical copy started as a separate server without a promotion (a base backup
-- started as a primary of its own keeps all three). A false alarm costs one reset per client
-- (refetch the state): a pg_upgrade, which may give the cluster a new identifier.

ALTER TABLE eventhub_epoch
    ADD COLUMN system_identifier bigint,
    ADD COLUMN database_oid oid,
    ADD COLUMN timeline integer;

-- Where this session runs. pg_control_system(), pg_current_wal_lsn() and pg_walfile_name() are
-- executable by every role unless an administrator revoked that: a part the hub's role may not
-- read is null (compared as such: it cannot tell a copy then, but the hub still starts). The
-- timeline is the first eight hex digits of the current WAL file's name (pg_control_checkpoint()
-- shows the old one until the first checkpoint after a promotion).
CREATE FUNCTION eventhub_database_identity(OUT system_identifier bigint, OUT database_oid oid, OUT timeline integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    database_oid := (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
    BEGIN
        system_identifier := (SELECT c.system_identifier FROM pg_control_system() c);
    EXCEPTION WHEN insufficient_privilege THEN
        system_identifier := NULL;
    END;
    BEGIN
        timeline := ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::integer;
    EXCEPTION WHEN insufficient_privilege THEN
        timeline := NULL;
    END;
END $$;

-- A database migrated before this migration is taken to be where its epoch was minted.
UPDATE eventhub_epoch e
SET system_identifier = i.system_identifier, database_oid = i.database_oid, timeline = i.timeline
FROM eventhub_database_identity() i;

-- The log's epoch, renewed first if the database is not where it was minted (then previous is
-- the epoch it had; else null). Locks the epoch row: concurrent starts renew once.
CREATE FUNCTION eventhub_confirm_epoch(OUT epoch text, OUT previous text)
LANGUAGE plpgsql AS $$
DECLARE
    here record;
    kept eventhub_epoch;
BEGIN
    SELECT * INTO here FROM eventhub_database_identity();
    SELECT * INTO kept FROM eventhub_epoch FOR UPDATE;
    epoch := kept.epoch;
    IF (kept.system_identifier, kept.database_oid, kept.timeline)
        IS NOT DISTINCT FROM (here.system_identifier, here.database_oid, here.timeline) THEN
        RETURN;
    END IF;
    previous := kept.epoch;
    epoch := substr(md5(random()::text || clock_timestamp()::text || txid_current()::text), 1, 10);
    UPDATE eventhub_epoch
    SET epoch = eventhub_confirm_epoch.epoch, created_at = now(),
        system_identifier = here.system_identifier, database_oid = here.database_oid, timeline = here.timeline;
END $$;
