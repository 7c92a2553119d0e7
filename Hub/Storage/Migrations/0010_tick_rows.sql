-- Core v2, the latency step (docs/design.md, "Latency"): a tick's batch is read once, by the tick
-- function itself. The live-state fold works on those rows (no per-tick planning of a read of
-- change_log: that was most of a tick's cost), and the ticker's call returns them, so the ticking
-- node's tail publishes the tick without a read of its own (one statement per event instead of two).

-- An entity's version is its event's seq, not its position. Events of one entity come from
-- writes to one source row, and a writer that changes a row another transaction changed waits
-- for that one's commit (the row lock) before its trigger draws a seq: so for one entity, seq
-- order is commit order. Position order is not: inside a tick rows go by (tx_id, seq), and of two
-- transactions committed in one tick the one with the older xid may have committed second (its
-- event is then the newer one). So the state keeps, per entity, the event with the highest seq,
-- and clients apply a streamed event to an entity only when its seq is higher than the one held.

-- Folds one tick's rows into the state; the set-based eventhub_apply_state remains for ticks too
-- large to hold as an array. Reads no table but the small eventhub_entity_key, so a generic plan
-- is the right one.
CREATE FUNCTION eventhub_fold_state(p_tick bigint, p_rows change_log[]) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    INSERT INTO eventhub_state (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
    SELECT DISTINCT ON (n.project_id, n.kind, n.entity_key)
           n.project_id, n.kind, n.entity_key, p_tick, n.tx_id, n.seq, n.event_type, n.session_id, n.payload, n.created_at
    FROM (SELECT b.project_id, k.kind,
                 (SELECT jsonb_agg(b.payload -> u.f ORDER BY u.o) FROM unnest(k.key_fields) WITH ORDINALITY AS u(f, o))::text AS entity_key,
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

-- Migration 0009's set-based fold, for ticks above 10,000 rows, with the seq rule above.
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
               (SELECT jsonb_agg(b.payload -> u.f ORDER BY u.o) FROM unnest(k.key_fields) WITH ORDINALITY AS u(f, o))::text AS entity_key,
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

-- The tick function of migrations 0007 and 0009, now reading the new tick's batch once: returns it
-- (in position order, (tx_id, seq)) when it has at most p_max_rows rows, else null (the caller reads
-- it like any batch). A batch of more than 10,000 rows is folded set-based and not held in memory.
--
-- Plans: every statement here probes an index from a bound or an xid it is given, so one generic
-- plan serves every call (custom plans re-planned the fold on every tick: ~1 ms of a tick's ~1.5).
-- The range read is ordered and limited, which keeps its generic plan an ordered range scan of
-- change_log_position_idx; LargeLogPlanTests counts the rows ticks read on a large log.
CREATE FUNCTION eventhub_make_tick_rows(p_max_rows integer, OUT tick_id bigint, OUT made boolean, OUT batch change_log[])
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    last  eventhub_tick;
    cur   pg_snapshot;
    done  xid8[];
    part1 change_log[];
    part2 change_log[];
    fold_limit constant integer := 10000;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'eventhub_make_tick needs READ COMMITTED (a fresh snapshot after the lock)';
    END IF;
    PERFORM pg_advisory_xact_lock(5005267704866957675); -- "EvHubTik"
    SELECT * INTO last FROM eventhub_tick t ORDER BY t.tick_id DESC LIMIT 1;
    cur := pg_current_snapshot(); -- a statement after the lock: a snapshot after the last tick's commit
    SELECT coalesce(array_agg(x ORDER BY x), '{}') INTO done
    FROM pg_snapshot_xip(last.snap) AS x WHERE pg_visible_in_snapshot(x, cur);
    -- Nothing new (migration 0007 says why each check is an index probe in any plan).
    IF coalesce((SELECT c.tx_id FROM change_log c ORDER BY c.tx_id DESC LIMIT 1), '0') < last.hi
       AND NOT (cardinality(done) > 0 AND EXISTS (
           SELECT 1 FROM unnest(done) AS d(x) WHERE EXISTS (SELECT 1 FROM change_log c WHERE c.tx_id = d.x))) THEN
        tick_id := last.tick_id;
        made := false;
        batch := '{}';
        RETURN;
    END IF;
    tick_id := last.tick_id + 1;
    INSERT INTO eventhub_tick (tick_id, snap, lo, hi, ended)
    VALUES (tick_id, cur, last.hi, pg_snapshot_xmax(cur), done);

    -- The batch (migration 0007): rows of the ended xids, one index probe each (OFFSET 0 keeps the
    -- probe a parameterised subquery), then the range [lo, hi) seen by the new snapshot. Every
    -- ended xid is below lo, so the two parts concatenate in (tx_id, seq) order.
    SELECT coalesce(array_agg(p.row ORDER BY (p.row).tx_id, (p.row).seq), '{}') INTO part1
    FROM unnest(done) AS d(x)
    CROSS JOIN LATERAL (SELECT c AS row FROM change_log c WHERE c.tx_id = d.x OFFSET 0) AS p;
    SELECT coalesce(array_agg(r.row ORDER BY (r.row).tx_id, (r.row).seq), '{}') INTO part2
    FROM (SELECT c AS row FROM change_log c
          WHERE c.tx_id >= last.hi AND c.tx_id < pg_snapshot_xmax(cur) AND pg_visible_in_snapshot(c.tx_id, cur)
          ORDER BY c.tx_id, c.seq
          LIMIT greatest(0, fold_limit + 1 - cardinality(part1))) AS r;
    IF cardinality(part1) + cardinality(part2) > fold_limit THEN
        PERFORM eventhub_apply_state(tick_id); -- a large tick: set-based, not held in memory
        batch := null;
    ELSE
        batch := part1 || part2;
        PERFORM eventhub_fold_state(tick_id, batch);
        IF cardinality(batch) > p_max_rows THEN
            batch := null;
        END IF;
    END IF;
    -- The wake-up of every hub: one NOTIFY per tick, from the ticker's commit only; writers send none.
    PERFORM pg_notify('eventhub_tick', tick_id::text);
    made := true;
END $$;

-- The previous signature, for any session that ticks (the head offset on a node that does not
-- tick, operators, a hub of the previous version during a rolling upgrade).
CREATE OR REPLACE FUNCTION eventhub_make_tick(OUT tick_id bigint, OUT made boolean) LANGUAGE sql AS $$
    SELECT r.tick_id, r.made FROM eventhub_make_tick_rows(0) r
$$;

-- The ticker's call (eventhub_tick of migration 0007 with the batch): one row per event of a new
-- tick of at most p_max_rows rows, each carrying the tick; otherwise one row with null event
-- columns (no tick made, another node holds the lease, or a batch too large: has_rows false).
-- The rows are the tick's: a caller publishes them only once the statement has committed.
CREATE FUNCTION eventhub_tick_rows(p_owner uuid, p_lease interval, p_max_rows integer)
RETURNS TABLE (tick_id bigint, made boolean, leader boolean, has_rows boolean,
               tx text, seq bigint, project_id text, session_id text, event_type text, payload text, created_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    holder  uuid;
    expires timestamptz;
    r       record;
BEGIN
    SELECT t.owner, t.expires_at INTO holder, expires FROM eventhub_ticker t;
    IF holder IS DISTINCT FROM p_owner OR expires < clock_timestamp() + p_lease * 0.75 THEN
        UPDATE eventhub_ticker t SET owner = p_owner, expires_at = clock_timestamp() + p_lease
        WHERE t.owner IS NOT DISTINCT FROM p_owner OR t.expires_at < clock_timestamp();
        IF NOT FOUND THEN
            RETURN QUERY SELECT 0::bigint, false, false, false, null::text, null::bigint, null::text, null::text, null::text, null::text, null::timestamptz;
            RETURN;
        END IF;
    END IF;
    SELECT * INTO r FROM eventhub_make_tick_rows(p_max_rows) m;
    IF r.made AND r.batch IS NOT NULL AND cardinality(r.batch) > 0 THEN
        RETURN QUERY SELECT r.tick_id, true, true, true, b.tx_id::text, b.seq, b.project_id, b.session_id, b.event_type, b.payload::text, b.created_at
                     FROM unnest(r.batch) WITH ORDINALITY AS b ORDER BY b.ordinality;
    ELSE
        RETURN QUERY SELECT r.tick_id, r.made, true, r.made AND r.batch IS NOT NULL, null::text, null::bigint, null::text, null::text, null::text, null::text, null::timestamptz;
    END IF;
END $$;

-- The state already kept stays as it is (folding it again from the log would lose the entities
-- whose events retention pruned); the seq rule applies from the next tick on.

-- Every tick updates rows of eventhub_state in place of their entity; with room left on each page
-- the update stays on the page (HOT: no new index entry), so the state's index does not bloat with
-- dead versions that every state read then walks. Pages written from now on keep the room.
ALTER TABLE eventhub_state SET (fillfactor = 70);
