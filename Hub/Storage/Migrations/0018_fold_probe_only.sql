-- The folds' MERGE can only find an entity by a probe of the key's hash index, whatever the
-- planner believes the state's size to be.
--
-- Why: eventhub_fold_state runs a generic plan, made once per session at its first tick and kept
-- for the session's life (until an ANALYZE of eventhub_state invalidates it). A ticker that starts
-- on an empty state (a new deployment: migration 0017 leaves it analyzed at 0 rows) planned the
-- join for a one-row table: a nested loop over a Materialize of the whole state, read through
-- eventhub_state_project and filtered per batch row. Every tick then compared its rows with every
-- entity: 269,660 comparisons to fold 139 new entities into a state of 1,940 (38 ms; lab, 8
-- writers), the ticker's session ~8 times its CPU per event for the first run on a new database,
-- and worse as the state grows until autovacuum analyzes it. With the materialize ruled out the
-- planner took the project index with project_id as its condition and the key as a filter: one
-- range of the project per row, as bad for a deployment of one project.
--
-- So the ON clause gives an index one usable condition, the key's equality (eventhub_state_entity);
-- project and kind are compared with IS NOT DISTINCT FROM (the same test for these NOT NULL
-- columns), which no index, hash join or merge join uses. The only paths left are that probe and a
-- sequential scan, which enable_seqscan = off (migration 0014) prices out. StateLookupTests counts
-- one probe per entity on a large analyzed state and on a ticker session that starts on an empty
-- one. Same rows, same rules as migrations 0014 and 0017.

CREATE OR REPLACE FUNCTION eventhub_fold_state(p_tick bigint, p_rows change_log[]) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    MERGE INTO eventhub_state s
    USING (SELECT DISTINCT ON (n.project_id, n.kind, n.entity_key) n.*
           FROM (SELECT b.project_id, k.kind, eventhub_entity_key(b.payload, k.key_fields) AS entity_key,
                        b.tx_id, b.seq, b.event_type, b.session_id, b.payload, b.created_at
                 FROM unnest(p_rows) AS b JOIN eventhub_entity_key k ON k.event_type = b.event_type) n
           ORDER BY n.project_id, n.kind, n.entity_key, n.seq DESC) x
    ON s.entity_key = x.entity_key AND (s.project_id, s.kind) IS NOT DISTINCT FROM (x.project_id, x.kind)
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

-- The set-based fold (ticks above 10,000 rows) plans each call afresh, so it sees the state's
-- current size; the same ON clause keeps it to the probe when that size is misjudged too.
CREATE OR REPLACE FUNCTION eventhub_apply_state(p_tick bigint) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan SET enable_seqscan = off AS $$
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
    ON s.entity_key = x.entity_key AND (s.project_id, s.kind) IS NOT DISTINCT FROM (x.project_id, x.kind)
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
