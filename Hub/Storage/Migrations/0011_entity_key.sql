-- An entity's key, as one inlinable expression instead of a subquery per event (migration 0009's
-- `(SELECT jsonb_agg(payload -> f ORDER BY o) FROM unnest(key_fields) WITH ORDINALITY)::text`).
-- The fold runs on the ticker's transaction for every event and competes with the writers for the
-- same cores; keying 1,000 new entities took 12.3 ms with the subquery and 9.2 ms with this, and
-- folding them again (every key a conflict) 5.9 ms and 4.5 ms (PostgreSQL 15, 2 cores). The text is
-- the same jsonb array text for every key (EntityKeyTests compares both forms on odd payloads).
-- STABLE, not IMMUTABLE: jsonb_build_array is STABLE, and a SQL function declared more immutable
-- than its body is not inlined (it then costs a function call per event, as much as the subquery).

-- Keys of more than three fields (configured types, State:EntityKeys): the general form.
CREATE FUNCTION eventhub_entity_key_any(p_payload jsonb, p_fields text[]) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (SELECT jsonb_agg(p_payload -> u.f ORDER BY u.o) FROM unnest(p_fields) WITH ORDINALITY AS u(f, o))::text
$$;

CREATE FUNCTION eventhub_entity_key(p_payload jsonb, p_fields text[]) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE cardinality(p_fields)
        WHEN 1 THEN jsonb_build_array(p_payload -> p_fields[1])::text
        WHEN 2 THEN jsonb_build_array(p_payload -> p_fields[1], p_payload -> p_fields[2])::text
        WHEN 3 THEN jsonb_build_array(p_payload -> p_fields[1], p_payload -> p_fields[2], p_payload -> p_fields[3])::text
        ELSE eventhub_entity_key_any(p_payload, p_fields)
    END
$$;

-- Migration 0010's folds, keyed by the function.
CREATE OR REPLACE FUNCTION eventhub_fold_state(p_tick bigint, p_rows change_log[]) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    INSERT INTO eventhub_state (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
    SELECT DISTINCT ON (n.project_id, n.kind, n.entity_key)
           n.project_id, n.kind, n.entity_key, p_tick, n.tx_id, n.seq, n.event_type, n.session_id, n.payload, n.created_at
    FROM (SELECT b.project_id, k.kind,
                 eventhub_entity_key(b.payload, k.key_fields) AS entity_key,
                 b.tx_id, b.seq, b.event_type, b.session_id, b.payload, b.created_at
          FROM unnest(p_rows) AS b JOIN eventhub_entity_key k ON k.event_type = b.event_type) n
    ORDER BY n.project_id, n.kind, n.entity_key, n.seq DESC
    ON CONFLICT (project_id, kind, entity_key) DO UPDATE
    SET tick_id = excluded.tick_id, tx_id = excluded.tx_id, seq = excluded.seq, event_type = excluded.event_type,
        session_id = excluded.session_id, payload = excluded.payload, created_at = excluded.created_at
    WHERE eventhub_state.seq < excluded.seq;

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
    WITH batch AS (
        SELECT c.* FROM change_log c WHERE c.tx_id = ANY (t.ended)
        UNION ALL
        SELECT c.* FROM change_log c
        WHERE c.tx_id >= t.lo AND c.tx_id < t.hi AND pg_visible_in_snapshot(c.tx_id, t.snap)),
    named AS (
        SELECT b.project_id, k.kind,
               eventhub_entity_key(b.payload, k.key_fields) AS entity_key,
               b.tx_id, b.seq, b.event_type, b.session_id, b.payload, b.created_at
        FROM batch b JOIN eventhub_entity_key k ON k.event_type = b.event_type),
    keyed AS (
        SELECT DISTINCT ON (project_id, kind, entity_key) *
        FROM named
        ORDER BY project_id, kind, entity_key, seq DESC)
    INSERT INTO eventhub_state (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
    SELECT project_id, kind, entity_key, p_tick, tx_id, seq, event_type, session_id, payload, created_at FROM keyed
    ON CONFLICT (project_id, kind, entity_key) DO UPDATE
    SET tick_id = excluded.tick_id, tx_id = excluded.tx_id, seq = excluded.seq, event_type = excluded.event_type,
        session_id = excluded.session_id, payload = excluded.payload, created_at = excluded.created_at
    WHERE eventhub_state.seq < excluded.seq;

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
