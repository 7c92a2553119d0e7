-- The live-state folds of migration 0011 as MERGE instead of INSERT ... ON CONFLICT DO UPDATE.
-- The folds run under the tick lock (eventhub_make_tick_rows), so no other transaction inserts a
-- key meanwhile and a plain join decides insert or update. ON CONFLICT paid for a race that cannot
-- happen here: a new entity was a speculative insertion (an index probe first, then a confirmation
-- record in the WAL), and a changed one was locked (a lock record) before its update. With 8
-- writers inserting a new entity each, the fold's WAL per event went from 791-802 to 741-748 bytes
-- (lab, pg_walinspect, full-page images aside; docs/design.md, "Costs": with synchronous commits
-- the writers wait on that WAL).
-- Same rows, same rules: per entity the batch's event with the highest seq, applied only when its
-- seq is higher than the one held.

CREATE OR REPLACE FUNCTION eventhub_fold_state(p_tick bigint, p_rows change_log[]) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    MERGE INTO eventhub_state s
    USING (SELECT DISTINCT ON (n.project_id, n.kind, n.entity_key) n.*
           FROM (SELECT b.project_id, k.kind, eventhub_entity_key(b.payload, k.key_fields) AS entity_key,
                        b.tx_id, b.seq, b.event_type, b.session_id, b.payload, b.created_at
                 FROM unnest(p_rows) AS b JOIN eventhub_entity_key k ON k.event_type = b.event_type) n
           ORDER BY n.project_id, n.kind, n.entity_key, n.seq DESC) x
    ON s.project_id = x.project_id AND s.kind = x.kind AND s.entity_key = x.entity_key
    WHEN MATCHED AND s.seq < x.seq THEN
        UPDATE SET tick_id = p_tick, tx_id = x.tx_id, seq = x.seq, event_type = x.event_type,
                   session_id = x.session_id, payload = x.payload, created_at = x.created_at
    WHEN NOT MATCHED THEN
        INSERT (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
        VALUES (x.project_id, x.kind, x.entity_key, p_tick, x.tx_id, x.seq, x.event_type, x.session_id, x.payload, x.created_at);

    INSERT INTO eventhub_state_unkeyed (project_id, event_type, events)
    SELECT b.project_id, b.event_type, count(*) FROM unnest(p_rows) AS b
    WHERE NOT EXISTS (SELECT 1 FROM eventhub_entity_key k WHERE k.event_type = b.event_type)
    GROUP BY b.project_id, b.event_type
    ON CONFLICT (project_id, event_type) DO UPDATE SET events = eventhub_state_unkeyed.events + excluded.events;
END $$;

CREATE OR REPLACE FUNCTION eventhub_apply_state(p_tick bigint) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    t eventhub_tick;
BEGIN
    SELECT * INTO t FROM eventhub_tick WHERE tick_id = p_tick;
    MERGE INTO eventhub_state s
    USING (WITH batch AS (
               SELECT c.* FROM change_log c WHERE c.tx_id = ANY (t.ended)
               UNION ALL
               SELECT c.* FROM change_log c
               WHERE c.tx_id >= t.lo AND c.tx_id < t.hi AND pg_visible_in_snapshot(c.tx_id, t.snap))
           SELECT DISTINCT ON (n.project_id, n.kind, n.entity_key) n.*
           FROM (SELECT b.project_id, k.kind, eventhub_entity_key(b.payload, k.key_fields) AS entity_key,
                        b.tx_id, b.seq, b.event_type, b.session_id, b.payload, b.created_at
                 FROM batch b JOIN eventhub_entity_key k ON k.event_type = b.event_type) n
           ORDER BY n.project_id, n.kind, n.entity_key, n.seq DESC) x
    ON s.project_id = x.project_id AND s.kind = x.kind AND s.entity_key = x.entity_key
    WHEN MATCHED AND s.seq < x.seq THEN
        UPDATE SET tick_id = p_tick, tx_id = x.tx_id, seq = x.seq, event_type = x.event_type,
                   session_id = x.session_id, payload = x.payload, created_at = x.created_at
    WHEN NOT MATCHED THEN
        INSERT (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
        VALUES (x.project_id, x.kind, x.entity_key, p_tick, x.tx_id, x.seq, x.event_type, x.session_id, x.payload, x.created_at);

    WITH batch AS (
        SELECT c.project_id, c.event_type FROM change_log c WHERE c.tx_id = ANY (t.ended)
        UNION ALL
        SELECT c.project_id, c.event_type FROM change_log c
        WHERE c.tx_id >= t.lo AND c.tx_id < t.hi AND pg_visible_in_snapshot(c.tx_id, t.snap))
    INSERT INTO eventhub_state_unkeyed (project_id, event_type, events)
    SELECT b.project_id, b.event_type, count(*) FROM batch b
    WHERE NOT EXISTS (SELECT 1 FROM eventhub_entity_key k WHERE k.event_type = b.event_type)
    GROUP BY b.project_id, b.event_type
    ON CONFLICT (project_id, event_type) DO UPDATE SET events = eventhub_state_unkeyed.events + excluded.events;
END $$;

-- A MERGE is a join, and the planner picks its method: for a large tick (apply_state folds ticks
-- of more than 10,000 rows) estimated large enough, a hash join over a Seq Scan of the whole state
-- (711,638 entities read, 0.9 s, to fold 80 rows whose estimate it did not know; lab). ON CONFLICT
-- always probed the key's index; so do these, as the tick function's own statements do
-- (migration 0013; eventhub_make_tick_rows sets it for what it calls, this also covers direct calls).
ALTER FUNCTION eventhub_fold_state(bigint, change_log[]) SET enable_seqscan = off;
ALTER FUNCTION eventhub_apply_state(bigint) SET enable_seqscan = off;
