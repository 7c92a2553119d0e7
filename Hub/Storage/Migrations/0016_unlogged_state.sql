-- The live state becomes a cache of the log that writes no WAL, over a durable base that retention
-- keeps (docs/design.md, "Live state", "Costs").
--
-- Why: the fold's row in eventhub_state (a copy of each event) and its key entry were ~520 bytes of
-- WAL per event, a third of all the WAL an insert causes, and with synchronous commits every writer
-- waits for the flush of the WAL written before its commit record. The same build with the state
-- unlogged cost the writers 22.6 % against 32.2 % (bench/results/2026-12-03-fold-wal.md).
--
-- What stays exact: eventhub_state is still folded in each tick's own transaction under the tick
-- lock, so a snapshot sees the state of exactly the ticks it sees. What changes: crash recovery (and
-- a standby's promotion) empties an unlogged table. The state is then rebuilt from what is durable:
-- eventhub_state_base, the state folded through the tick in eventhub_state_base_mark, plus the
-- log's rows of every later tick. Retention folds the ticks it is about to prune into the base first
-- (eventhub_advance_state_base, in its own transaction), so no row it deletes is needed by a rebuild:
-- every tick after the base's mark keeps all of its rows. eventhub_state_ready (unlogged too, so
-- emptied with the state) says whether eventhub_state is whole; when it is not, the hub (or a state
-- read) rebuilds it through the newest tick.

-- Rolling upgrade: no tick (and no fold) runs while the base is copied.
SELECT pg_advisory_xact_lock(5005267704866957675); -- "EvHubTik"

CREATE TABLE eventhub_state_base (LIKE eventhub_state INCLUDING ALL);
INSERT INTO eventhub_state_base SELECT * FROM eventhub_state;

CREATE TABLE eventhub_state_base_mark (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    through_tick bigint NOT NULL
);
INSERT INTO eventhub_state_base_mark (through_tick) SELECT coalesce(max(tick_id), 0) FROM eventhub_tick;

ALTER TABLE eventhub_state SET UNLOGGED;

CREATE UNLOGGED TABLE eventhub_state_ready (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton)
);
INSERT INTO eventhub_state_ready DEFAULT VALUES;

-- Per entity, the latest event (highest seq) among the rows of ticks (p_after, p_through], each
-- with its tick. Each tick's batch is read as the tick functions read it: index probes of its ended
-- xids and a range of change_log_position_idx.
CREATE FUNCTION eventhub_state_of_ticks(p_after bigint, p_through bigint) RETURNS SETOF eventhub_state
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (n.project_id, n.kind, n.entity_key)
           n.project_id, n.kind, n.entity_key, n.tick_id, n.tx_id, n.seq, n.event_type, n.session_id, n.payload, n.created_at
    FROM (SELECT b.project_id, k.kind, eventhub_entity_key(b.payload, k.key_fields) AS entity_key,
                 t.tick_id, b.tx_id, b.seq, b.event_type, b.session_id, b.payload, b.created_at
          FROM eventhub_tick t
          CROSS JOIN LATERAL (
              SELECT c.* FROM change_log c WHERE c.tx_id = ANY (t.ended)
              UNION ALL
              SELECT c.* FROM change_log c
              WHERE c.tx_id >= t.lo AND c.tx_id < t.hi AND pg_visible_in_snapshot(c.tx_id, t.snap)) b
          JOIN eventhub_entity_key k ON k.event_type = b.event_type
          WHERE t.tick_id > p_after AND t.tick_id <= p_through) n
    ORDER BY n.project_id, n.kind, n.entity_key, n.seq DESC
$$;

-- Retention, before it prunes rows of ticks up to p_through: the base then holds the state through
-- that tick (a tick after the mark keeps every row). Written only here, under retention's lock.
CREATE FUNCTION eventhub_advance_state_base(p_through bigint) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE
    mark bigint;
BEGIN
    SELECT through_tick INTO mark FROM eventhub_state_base_mark FOR UPDATE;
    IF p_through <= mark THEN RETURN; END IF;
    MERGE INTO eventhub_state_base s
    USING eventhub_state_of_ticks(mark, p_through) x
    ON s.project_id = x.project_id AND s.kind = x.kind AND s.entity_key = x.entity_key
    WHEN MATCHED AND s.seq < x.seq THEN
        UPDATE SET tick_id = x.tick_id, tx_id = x.tx_id, seq = x.seq, event_type = x.event_type,
                   session_id = x.session_id, payload = x.payload, created_at = x.created_at
    WHEN NOT MATCHED THEN
        INSERT (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
        VALUES (x.project_id, x.kind, x.entity_key, x.tick_id, x.tx_id, x.seq, x.event_type, x.session_id, x.payload, x.created_at);
    UPDATE eventhub_state_base_mark SET through_tick = p_through;
END $$;

-- The state through tick p_through from what is durable, in one statement: one snapshot sees the
-- base, its mark and the log together (a retention pass that commits meanwhile advances the mark
-- and deletes rows at once). The caller holds the tick lock, so no fold runs meanwhile.
CREATE FUNCTION eventhub_rebuild_state(p_through bigint) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
    DELETE FROM eventhub_state; -- empty after a crash but for what ticks folded since: replaced
    INSERT INTO eventhub_state (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
    SELECT DISTINCT ON (u.project_id, u.kind, u.entity_key)
           u.project_id, u.kind, u.entity_key, u.tick_id, u.tx_id, u.seq, u.event_type, u.session_id, u.payload, u.created_at
    FROM (SELECT * FROM eventhub_state_base
          UNION ALL
          SELECT x.* FROM eventhub_state_base_mark m CROSS JOIN LATERAL eventhub_state_of_ticks(m.through_tick, p_through) x) u
    ORDER BY u.project_id, u.kind, u.entity_key, u.seq DESC;
    INSERT INTO eventhub_state_ready DEFAULT VALUES ON CONFLICT DO NOTHING;
END $$;

-- Rebuild the state through the newest tick if it is not whole (after waiting for the tick lock,
-- look again: another caller may have just done it). Called every second by each hub and by a
-- state read that finds the state not whole. Needs READ COMMITTED (a fresh snapshot after the lock).
CREATE FUNCTION eventhub_ensure_state() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM eventhub_state_ready) THEN RETURN; END IF;
    PERFORM pg_advisory_xact_lock(5005267704866957675); -- "EvHubTik"
    IF EXISTS (SELECT 1 FROM eventhub_state_ready) THEN RETURN; END IF;
    PERFORM eventhub_rebuild_state((SELECT coalesce(max(tick_id), 0) FROM eventhub_tick));
END $$;

-- The ticks' folds (migration 0014) are unchanged: while the state is not whole they fold into
-- what is there, and the rebuild, under the tick lock, replaces all of it with the state through
-- the newest tick (their unkeyed-type counts, a logged table, stay exact). A tick does not rebuild
-- the state itself: the ticker's statement has a client-side timeout, and a rebuild that outlasted
-- it would be cancelled and retried with every tick while none could be made. The hub rebuilds in
-- the background instead (LiveStateUpkeep calls eventhub_ensure_state every second), and a state
-- read that finds the state not whole does so at once.

ANALYZE eventhub_state_base;
ANALYZE eventhub_state_base_mark;
ANALYZE eventhub_state_ready;
