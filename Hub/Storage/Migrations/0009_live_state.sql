-- Live state (docs/design.md, "Live state"): the latest event of every entity, kept by the ticker
-- in each tick's own transaction, so writers pay nothing and the state is exactly the log through
-- the newest tick: one statement reads both.

-- Which entity an event type describes: its kind, and the payload fields whose values key it.
-- The hub adds configured types at start-up (State:EntityKeys); a type with no row here is left
-- out of the state and counted in eventhub_state_unkeyed.
CREATE TABLE eventhub_entity_key (
    event_type text PRIMARY KEY,
    kind       text NOT NULL,
    key_fields text[] NOT NULL CHECK (cardinality(key_fields) > 0)
);
INSERT INTO eventhub_entity_key (event_type, kind, key_fields) VALUES
    ('session_created',           'session', '{id}'),
    ('session_updated',           'session', '{id}'),
    ('pr_created',                'pr',      '{url}'),
    ('pr_updated',                'pr',      '{url}'),
    ('pr_session_changed',        'pr',      '{url}'),
    ('pr_check_recorded',         'check',   '{pr,name,commit}'),
    ('pr_review_thread_added',    'thread',  '{pr,thread}'),
    ('pr_review_thread_resolved', 'thread',  '{pr,thread}');

-- The compacted log: one row per (project, kind, key), the entity's latest event and its position.
-- entity_key is the JSON array of the key fields' values, in key_fields order.
CREATE TABLE eventhub_state (
    project_id text NOT NULL,
    kind       text NOT NULL,
    entity_key text NOT NULL,
    tick_id    bigint NOT NULL,
    tx_id      xid8 NOT NULL,
    seq        bigint NOT NULL,
    event_type text NOT NULL,
    session_id text,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (project_id, kind, entity_key)
);

-- Events of types without a key, per project: said so in the state's answer.
CREATE TABLE eventhub_state_unkeyed (
    project_id text NOT NULL,
    event_type text NOT NULL,
    events     bigint NOT NULL,
    PRIMARY KEY (project_id, event_type)
);

-- Folds tick p_tick's batch into the state: per entity, the batch's last event in position order
-- replaces what the state held (ticks are applied in order, under the tick lock).
CREATE FUNCTION eventhub_apply_state(p_tick bigint) RETURNS void LANGUAGE plpgsql
-- The tick's bounds are variables, so each read of its batch is an index range scan planned for
-- them (joined from the tick's row, the bounds became a join filter over all of change_log).
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
               (SELECT jsonb_agg(b.payload -> u.f ORDER BY u.o) FROM unnest(k.key_fields) WITH ORDINALITY AS u(f, o))::text AS entity_key,
               b.tx_id, b.seq, b.event_type, b.session_id, b.payload, b.created_at
        FROM batch b JOIN eventhub_entity_key k ON k.event_type = b.event_type),
    keyed AS (
        SELECT DISTINCT ON (project_id, kind, entity_key) *
        FROM named
        ORDER BY project_id, kind, entity_key, tx_id DESC, seq DESC)
    INSERT INTO eventhub_state (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
    SELECT project_id, kind, entity_key, p_tick, tx_id, seq, event_type, session_id, payload, created_at FROM keyed
    ON CONFLICT (project_id, kind, entity_key) DO UPDATE
    SET tick_id = excluded.tick_id, tx_id = excluded.tx_id, seq = excluded.seq, event_type = excluded.event_type,
        session_id = excluded.session_id, payload = excluded.payload, created_at = excluded.created_at;

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

-- The tick function of migration 0007, now also folding each new tick into the state in the
-- tick's own transaction.
CREATE OR REPLACE FUNCTION eventhub_make_tick(OUT tick_id bigint, OUT made boolean) LANGUAGE plpgsql AS $$
DECLARE
    last eventhub_tick;
    cur  pg_snapshot;
    done xid8[];
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'eventhub_make_tick needs READ COMMITTED (a fresh snapshot after the lock)';
    END IF;
    PERFORM pg_advisory_xact_lock(5005267704866957675); -- "EvHubTik"
    SELECT * INTO last FROM eventhub_tick t ORDER BY t.tick_id DESC LIMIT 1;
    cur := pg_current_snapshot(); -- a statement after the lock: a snapshot after the last tick's commit
    SELECT coalesce(array_agg(x ORDER BY x), '{}') INTO done
    FROM pg_snapshot_xip(last.snap) AS x WHERE pg_visible_in_snapshot(x, cur);
    -- The newest xid is one step down the (tx_id, seq) index from its end, whatever plan PL/pgSQL
    -- caches; an EXISTS with tx_id >= $1 got a generic plan that scanned the whole table (90 ms a
    -- look on 500,000 rows, bench/results/2026-12-02.md).
    IF coalesce((SELECT c.tx_id FROM change_log c ORDER BY c.tx_id DESC LIMIT 1), '0') < last.hi
       -- One index probe per ended xid, in any plan PL/pgSQL caches (a generic plan of
       -- tx_id = ANY($1) scanned the whole table on every look), and none when none ended.
       AND NOT (cardinality(done) > 0 AND EXISTS (
           SELECT 1 FROM unnest(done) AS d(x) WHERE EXISTS (SELECT 1 FROM change_log c WHERE c.tx_id = d.x))) THEN
        tick_id := last.tick_id;
        made := false;
        RETURN;
    END IF;
    INSERT INTO eventhub_tick (tick_id, snap, lo, hi, ended)
    VALUES (last.tick_id + 1, cur, last.hi, pg_snapshot_xmax(cur), done);
    PERFORM eventhub_apply_state(last.tick_id + 1);
    PERFORM pg_notify('eventhub_tick', (last.tick_id + 1)::text);
    tick_id := last.tick_id + 1;
    made := true;
END $$;

-- The state of the log as it is: every tick so far, in order (what retention left of it).
SELECT eventhub_apply_state(tick_id) FROM eventhub_tick ORDER BY tick_id;

ANALYZE eventhub_entity_key;
ANALYZE eventhub_state;
ANALYZE eventhub_state_unkeyed;
