-- A large tick is published at once and folded into the live state after it, by another
-- transaction; the state says which tick it is folded through.
--
-- Why: a tick's fold ran inside the tick's own transaction, so every stream of every project waited
-- for it: ~15 us per new entity, 4.5 s of a 300,000-row load's 5.8 s before other projects' events
-- came again, 15 s after a 1,000,000-row load (lab; bench/results/2026-12-04-bulk-load.md). Ticks
-- are the log's order and nothing else may wait on the state.
--
-- How: eventhub_state_ready (unlogged, emptied with the state by a crash) gains through_tick, the
-- tick the state is folded through, written in the same transaction as every fold. Every writer of
-- the state holds the state lock ("EvHubSta") and moves through_tick with what it folds:
--   * the tick folds its own batch in memory, as before, only when the state is folded through the
--     tick before it and the lock is free at once (pg_try_advisory_xact_lock: a tick never waits);
--   * otherwise (a batch above 10,000 rows, the state behind, the lock held) it leaves the fold to
--     eventhub_fold_pending, which folds the ticks after through_tick set-based, up to p_max_ticks a
--     transaction (LiveStateUpkeep calls it every second);
--   * a rebuild after a crash takes the state lock instead of the tick lock: ticks go on meanwhile.
-- So a state read, one statement, sees the state of exactly the ticks through through_tick, and
-- answers with that tick's end as its offset (LiveStateReader). While a large fold runs the state
-- lags the stream by that fold (a state read stays exact, only older); streams do not wait.
-- The unkeyed types' counts (a logged table, not rebuilt after a crash) stay in every tick.

-- Rolling upgrade: no tick (and no fold) runs while the mark is set.
SELECT pg_advisory_xact_lock(5005267704866957675); -- "EvHubTik"

ALTER TABLE eventhub_state_ready ADD COLUMN through_tick bigint;
UPDATE eventhub_state_ready SET through_tick = (SELECT coalesce(max(tick_id), 0) FROM eventhub_tick);
ALTER TABLE eventhub_state_ready ALTER COLUMN through_tick SET NOT NULL;

-- The unkeyed types' counts of a batch (the second statement of eventhub_fold_state), for a tick
-- whose entities are folded later.
CREATE FUNCTION eventhub_count_unkeyed(p_rows change_log[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO eventhub_state_unkeyed (project_id, event_type, events)
    SELECT b.project_id, b.event_type, count(*) FROM unnest(p_rows) AS b
    WHERE NOT EXISTS (SELECT 1 FROM eventhub_entity_key k WHERE k.event_type = b.event_type)
    GROUP BY b.project_id, b.event_type
    ON CONFLICT (project_id, event_type) DO UPDATE SET events = eventhub_state_unkeyed.events + excluded.events
$$;

-- The same for a tick too large to hold in memory, read from change_log.
CREATE FUNCTION eventhub_count_unkeyed_of_tick(p_tick bigint) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan SET enable_seqscan = off AS $$
DECLARE
    t eventhub_tick;
BEGIN
    SELECT * INTO t FROM eventhub_tick WHERE tick_id = p_tick;
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

-- The entities of ticks (p_after, p_through] into the state, set-based (the unkeyed counts are the
-- ticks'). The caller holds the state lock and moves through_tick. Planned per call (it sees the
-- state's size); the ON clause leaves the key's hash probe as the only way in (migration 0018).
CREATE FUNCTION eventhub_fold_ticks(p_after bigint, p_through bigint) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan SET enable_seqscan = off AS $$
BEGIN
    MERGE INTO eventhub_state s
    USING eventhub_state_of_ticks(p_after, p_through) x
    ON s.entity_key = x.entity_key AND (s.project_id, s.kind) IS NOT DISTINCT FROM (x.project_id, x.kind)
    WHEN MATCHED AND s.seq < x.seq THEN
        UPDATE SET tick_id = x.tick_id, tx_id = x.tx_id, seq = x.seq, event_type = x.event_type,
                   session_id = x.session_id, payload = x.payload, created_at = x.created_at
    WHEN NOT MATCHED THEN
        INSERT (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
        VALUES (x.project_id, x.kind, x.entity_key, x.tick_id, x.tx_id, x.seq, x.event_type, x.session_id, x.payload, x.created_at);
END $$;

-- Folds the ticks after the state's through_tick, at most p_max_ticks of them, in the caller's
-- transaction; returns the state's through_tick after it, or null when the state is not whole (a
-- rebuild's turn). Needs READ COMMITTED: it looks again with a fresh snapshot after the lock.
CREATE FUNCTION eventhub_fold_pending(p_max_ticks integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    through bigint;
    upto    bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'eventhub_fold_pending needs READ COMMITTED (a fresh snapshot after the lock)';
    END IF;
    -- One statement, one snapshot: a tick that folded itself committed its through_tick with it, so
    -- this takes the lock (which makes ticks meanwhile leave their folds to the next pass) only when
    -- the state is behind.
    SELECT r.through_tick, (SELECT coalesce(max(t.tick_id), 0) FROM eventhub_tick t) INTO through, upto
    FROM eventhub_state_ready r;
    IF NOT FOUND THEN RETURN null; END IF;
    IF through >= upto THEN RETURN through; END IF;
    PERFORM pg_advisory_xact_lock(5005267704866894945); -- "EvHubSta"
    SELECT r.through_tick INTO through FROM eventhub_state_ready r;
    IF NOT FOUND THEN RETURN null; END IF;
    upto := least((SELECT coalesce(max(tick_id), 0) FROM eventhub_tick), through + p_max_ticks);
    IF upto <= through THEN RETURN through; END IF;
    PERFORM eventhub_fold_ticks(through, upto);
    UPDATE eventhub_state_ready SET through_tick = upto;
    RETURN upto;
END $$;

-- The rebuild after a crash (migration 0016) under the state lock, no longer the tick lock, and
-- with the tick it rebuilt through.
CREATE OR REPLACE FUNCTION eventhub_rebuild_state(p_through bigint) RETURNS void LANGUAGE plpgsql
SET enable_seqscan = off AS $$
BEGIN
    DELETE FROM eventhub_state; -- empty after a crash: replaced
    INSERT INTO eventhub_state (project_id, kind, entity_key, tick_id, tx_id, seq, event_type, session_id, payload, created_at)
    SELECT DISTINCT ON (u.project_id, u.kind, u.entity_key)
           u.project_id, u.kind, u.entity_key, u.tick_id, u.tx_id, u.seq, u.event_type, u.session_id, u.payload, u.created_at
    FROM (SELECT * FROM eventhub_state_base
          UNION ALL
          SELECT x.* FROM eventhub_state_base_mark m CROSS JOIN LATERAL eventhub_state_of_ticks(m.through_tick, p_through) x) u
    ORDER BY u.project_id, u.kind, u.entity_key, u.seq DESC;
    DELETE FROM eventhub_state_ready;
    INSERT INTO eventhub_state_ready (through_tick) VALUES (p_through);
END $$;

CREATE OR REPLACE FUNCTION eventhub_ensure_state() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM eventhub_state_ready) THEN RETURN; END IF;
    PERFORM pg_advisory_xact_lock(5005267704866894945); -- "EvHubSta"
    IF EXISTS (SELECT 1 FROM eventhub_state_ready) THEN RETURN; END IF;
    PERFORM eventhub_rebuild_state((SELECT coalesce(max(tick_id), 0) FROM eventhub_tick));
END $$;

-- The tick function of migration 0019 with the fold as above.
CREATE OR REPLACE FUNCTION eventhub_make_tick_rows(p_max_rows integer, OUT tick_id bigint, OUT made boolean, OUT batch change_log[])
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off AS $$
DECLARE
    last    eventhub_tick;
    cur     pg_snapshot;
    done    xid8[];
    running xid8[];
    part1   change_log[];
    part2   change_log[];
    fold_limit constant integer := 10000;
    folds   boolean := false;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'eventhub_make_tick needs READ COMMITTED (a fresh snapshot after the lock)';
    END IF;
    PERFORM pg_advisory_xact_lock(5005267704866957675); -- "EvHubTik"
    SELECT * INTO last FROM eventhub_tick t ORDER BY t.tick_id DESC LIMIT 1;
    cur := pg_current_snapshot(); -- a statement after the lock: a snapshot after the last tick's commit
    SELECT coalesce(array_agg(x ORDER BY x), '{}') INTO done
    FROM pg_snapshot_xip(last.snap) AS x WHERE pg_visible_in_snapshot(x, cur);
    SELECT coalesce(array_agg(x ORDER BY x), '{}') INTO running
    FROM pg_snapshot_xip(cur) AS x WHERE x >= last.hi;
    IF NOT EXISTS (SELECT 1 FROM change_log c
                   WHERE c.tx_id >= last.hi AND c.tx_id < coalesce(running[1], pg_snapshot_xmax(cur)))
       AND NOT (cardinality(running) > 0 AND EXISTS (
           SELECT 1 FROM unnest(running, running[2:] || pg_snapshot_xmax(cur)) AS g(after, before)
           WHERE EXISTS (SELECT 1 FROM change_log c WHERE c.tx_id > g.after AND c.tx_id < g.before)))
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

    SELECT coalesce(array_agg(p.row ORDER BY (p.row).tx_id, (p.row).seq), '{}') INTO part1
    FROM unnest(done) AS d(x)
    CROSS JOIN LATERAL (SELECT c AS row FROM change_log c WHERE c.tx_id = d.x OFFSET 0) AS p;
    SELECT coalesce(array_agg(r.row ORDER BY (r.row).tx_id, (r.row).seq), '{}') INTO part2
    FROM (SELECT c AS row FROM change_log c
          WHERE c.tx_id >= last.hi AND c.tx_id < pg_snapshot_xmax(cur) AND pg_visible_in_snapshot(c.tx_id, cur)
          ORDER BY c.tx_id, c.seq
          LIMIT greatest(0, fold_limit + 1 - cardinality(part1))) AS r;
    IF cardinality(part1) + cardinality(part2) > fold_limit THEN
        PERFORM eventhub_count_unkeyed_of_tick(tick_id); -- its entities: eventhub_fold_pending
        batch := null;
    ELSE
        batch := part1 || part2;
        -- Folded here only right after the tick the state is folded through, and only if no other
        -- fold (or rebuild) holds the state: a tick never waits for one.
        -- (Two statements: the test of through_tick takes its snapshot after the lock.)
        IF pg_try_advisory_xact_lock(5005267704866894945) THEN -- "EvHubSta"
            UPDATE eventhub_state_ready r SET through_tick = tick_id WHERE r.through_tick = last.tick_id;
            folds := FOUND;
        END IF;
        IF folds THEN
            PERFORM eventhub_fold_state(tick_id, batch);
        ELSE
            PERFORM eventhub_count_unkeyed(batch);
        END IF;
        IF cardinality(batch) > p_max_rows THEN
            batch := null;
        END IF;
    END IF;
    PERFORM pg_notify('eventhub_tick', tick_id::text);
    made := true;
END $$;

-- The ticker no longer folds a large tick itself; the tests that read that fold read this one.
DROP FUNCTION eventhub_apply_state(bigint);

ANALYZE eventhub_state_ready;
