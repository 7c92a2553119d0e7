-- The key table follows configuration, and the state follows the key table (issue 15, point 1).
--
-- Why: EntityKeySync upserted the configured keys at each start and nothing else. A type keyed
-- after its events were written stayed out of the state (and in unkeyedTypes) until each entity's
-- next event; a key whose kind or fields changed left every entity under its old key beside the
-- new one (two entities, one stale); and a key taken out of configuration stayed in the table.
--
-- How: eventhub_apply_entity_keys(configured) makes the table the built-in keys overridden and
-- extended by configuration, and for the types whose key it changed (added, changed, removed)
-- folds the state again from what is durable, under the state lock and the base's mark row (so no
-- fold, rebuild or retention pass runs meanwhile):
--   * the base's rows of those types leave it; those still keyed come back under their new key;
--   * every entity of a kind the change touches (old kinds and new) is folded again from the log's
--     rows through the base's mark (what retention left; the highest seq wins, as in every fold);
--   * their unkeyed counts are counted again from the log through the counts' mark;
--   * the state is rebuilt from the base and the later ticks (eventhub_rebuild_state).
-- What retention already pruned of a type that had no key is gone: its entities start with their
-- next event. The function does nothing when the table already is what configuration says (every
-- start but the first after a change), and its cost otherwise is one pass over the log's rows of
-- the kinds it touches.

CREATE TABLE eventhub_entity_key_builtin (
    event_type text PRIMARY KEY,
    kind       text NOT NULL,
    key_fields text[] NOT NULL CHECK (cardinality(key_fields) > 0)
);
INSERT INTO eventhub_entity_key_builtin (event_type, kind, key_fields) VALUES
    ('session_created',           'session', '{id}'),
    ('session_updated',           'session', '{id}'),
    ('pr_created',                'pr',      '{url}'),
    ('pr_updated',                'pr',      '{url}'),
    ('pr_session_changed',        'pr',      '{url}'),
    ('pr_check_recorded',         'check',   '{pr,name,commit}'),
    ('pr_review_thread_added',    'thread',  '{pr,thread}'),
    ('pr_review_thread_resolved', 'thread',  '{pr,thread}');

-- p_configured: {"<type>": {"kind": "<kind>", "fields": ["<field>", ...]}, ...}. Returns the types
-- whose key changed (empty: nothing to do).
CREATE FUNCTION eventhub_apply_entity_keys(p_configured jsonb) RETURNS text[] LANGUAGE plpgsql
SET jit = off SET enable_seqscan = off AS $$
DECLARE
    wanted jsonb;
    changed text[];
    kinds text[];
    base_mark bigint;
    unkeyed_mark bigint;
    rekeyed eventhub_state_base[];
BEGIN
    SELECT jsonb_object_agg(b.event_type, jsonb_build_object('kind', b.kind, 'fields', to_jsonb(b.key_fields))) || coalesce(p_configured, '{}')
    INTO wanted FROM eventhub_entity_key_builtin b;

    PERFORM pg_advisory_xact_lock(5005267704866894945); -- the state lock ("EvHubSta"): folds and rebuilds wait
    SELECT coalesce(array_agg(coalesce(w.key, k.event_type)), ARRAY[]::text[]) INTO changed
    FROM jsonb_each(wanted) w
    FULL JOIN eventhub_entity_key k ON k.event_type = w.key
    WHERE w.key IS NULL OR k.event_type IS NULL OR k.kind <> w.value->>'kind'
       OR k.key_fields <> ARRAY(SELECT jsonb_array_elements_text(w.value->'fields'));
    IF cardinality(changed) = 0 THEN RETURN changed; END IF;

    SELECT through_tick INTO base_mark FROM eventhub_state_base_mark FOR UPDATE; -- retention's base pass waits
    SELECT through_tick INTO unkeyed_mark FROM eventhub_state_unkeyed_mark FOR UPDATE;
    SELECT coalesce(array_agg(DISTINCT v.kind), ARRAY[]::text[]) INTO kinds FROM (
        SELECT k.kind FROM eventhub_entity_key k WHERE k.event_type = ANY(changed)
        UNION ALL
        SELECT w.value->>'kind' FROM jsonb_each(wanted) w WHERE w.key = ANY(changed)) v;

    DELETE FROM eventhub_entity_key WHERE event_type = ANY(changed);
    INSERT INTO eventhub_entity_key (event_type, kind, key_fields)
    SELECT w.key, w.value->>'kind', ARRAY(SELECT jsonb_array_elements_text(w.value->'fields'))
    FROM jsonb_each(wanted) w WHERE w.key = ANY(changed);

    -- The base's rows of the changed types, under their new keys where they still have one.
    rekeyed := ARRAY(
        SELECT ROW(s.project_id, k.kind, eventhub_entity_key(s.payload::jsonb, k.key_fields), s.tick_id, s.tx_id, s.seq,
                   s.event_type, s.session_id, s.payload, s.created_at)::eventhub_state_base
        FROM eventhub_state_base s JOIN eventhub_entity_key k ON k.event_type = s.event_type
        WHERE s.event_type = ANY(changed));
    DELETE FROM eventhub_state_base WHERE event_type = ANY(changed);
    MERGE INTO eventhub_state_base s
    USING (SELECT DISTINCT ON (u.project_id, u.kind, u.entity_key) u.*
           FROM (SELECT * FROM unnest(rekeyed)
                 UNION ALL
                 SELECT b.project_id, k.kind, eventhub_entity_key(b.payload, k.key_fields), t.tick_id, b.tx_id, b.seq,
                        b.event_type, b.session_id, b.payload::text, b.created_at
                 FROM eventhub_tick t
                 CROSS JOIN LATERAL eventhub_rows_of_tick(t) b
                 JOIN eventhub_entity_key k ON k.event_type = b.event_type AND k.kind = ANY(kinds)
                 WHERE t.tick_id <= base_mark) u
           ORDER BY u.project_id, u.kind, u.entity_key, u.seq DESC) x
    ON s.project_id = x.project_id AND s.kind = x.kind AND s.entity_key = x.entity_key
    WHEN MATCHED AND s.seq < x.seq THEN
        UPDATE SET tick_id = x.tick_id, tx_id = x.tx_id, seq = x.seq, event_type = x.event_type,
                   session_id = x.session_id, payload = x.payload, created_at = x.created_at
    WHEN NOT MATCHED THEN
        INSERT (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
        VALUES (x.project_id, x.kind, x.entity_key, x.tick_id, x.tx_id, x.seq, x.event_type, x.session_id, x.payload, x.created_at);

    DELETE FROM eventhub_state_unkeyed WHERE event_type = ANY(changed);
    INSERT INTO eventhub_state_unkeyed (project_id, event_type, events)
    SELECT b.project_id, b.event_type, count(*)
    FROM eventhub_tick t
    CROSS JOIN LATERAL eventhub_rows_of_tick(t) b
    WHERE t.tick_id <= unkeyed_mark AND b.event_type = ANY(changed)
      AND NOT EXISTS (SELECT 1 FROM eventhub_entity_key k WHERE k.event_type = b.event_type)
    GROUP BY b.project_id, b.event_type;

    PERFORM eventhub_rebuild_state((SELECT coalesce(max(tick_id), 0) FROM eventhub_tick));
    RETURN changed;
END $$;
