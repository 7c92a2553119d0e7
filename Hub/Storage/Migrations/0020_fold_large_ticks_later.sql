-- A large tick is published at once and folded into the live state after it, by another
-- transaction; the state says which tick it is folded through.
--
-- Why: a tick's fold ran inside the tick's own transaction, so every stream of every project waited
-- for it: ~15 us per new entity, 4.5 s of a 300,000-row load's 5.8 s before other projects' events
-- came again, 15 s after a 1,000,000-row load (lab; bench/results/2026-12-04-bulk-load.md). Ticks
-- are the log's order and nothing else may wait on the state.
--
-- How: two marks say how far the state's two parts are folded, each written in the same
-- transaction as every fold of its part: eventhub_state_ready.through_tick for the entities
-- (unlogged, emptied with them by a crash) and eventhub_state_unkeyed_mark for the unkeyed types'
-- counts (logged like them; no rebuild recounts them). Every fold holds the state lock ("EvHubSta"):
--   * a tick folds its own batch in memory, as before, into each part whose mark is the tick before
--     it, and only if it gets the lock at once (pg_try_advisory_xact_lock: a tick never waits);
--   * otherwise (a batch above 10,000 rows, a part behind, the lock held) eventhub_fold_pending
--     folds the ticks after each mark set-based, up to p_max_ticks a transaction (LiveStateUpkeep
--     calls it every second), and retention calls it through its cut before it prunes, so no
--     tick's rows go before they are folded;
--   * a rebuild after a crash takes the state lock instead of the tick lock: ticks go on meanwhile.
-- So a state read, one statement, sees the entities of exactly the ticks through through_tick, and
-- answers with that tick's end as its offset (LiveStateReader). While a large fold runs the state
-- lags the stream by that fold (a state read stays exact, only older); streams do not wait.

-- Rolling upgrade: no tick (and no fold) runs while the marks are set.
SELECT pg_advisory_xact_lock(5005267704866957675); -- "EvHubTik"

ALTER TABLE eventhub_state_ready ADD COLUMN through_tick bigint;
UPDATE eventhub_state_ready SET through_tick = (SELECT coalesce(max(tick_id), 0) FROM eventhub_tick);
ALTER TABLE eventhub_state_ready ALTER COLUMN through_tick SET NOT NULL;

CREATE TABLE eventhub_state_unkeyed_mark (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    through_tick bigint NOT NULL
);
INSERT INTO eventhub_state_unkeyed_mark (through_tick) SELECT coalesce(max(tick_id), 0) FROM eventhub_tick;

-- The two parts of eventhub_fold_state (migration 0018), each on its own: the entities of a batch
-- held in memory, and its unkeyed types' counts.
CREATE FUNCTION eventhub_fold_rows(p_tick bigint, p_rows change_log[]) RETURNS void LANGUAGE plpgsql
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
END $$;

-- PL/pgSQL, as the fold was: its plan is kept for the session (a SQL function called from the tick
-- function was planned again at every tick, in the latency path).
CREATE FUNCTION eventhub_count_unkeyed(p_rows change_log[]) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    INSERT INTO eventhub_state_unkeyed (project_id, event_type, events)
    SELECT b.project_id, b.event_type, count(*) FROM unnest(p_rows) AS b
    WHERE NOT EXISTS (SELECT 1 FROM eventhub_entity_key k WHERE k.event_type = b.event_type)
    GROUP BY b.project_id, b.event_type
    ON CONFLICT (project_id, event_type) DO UPDATE SET events = eventhub_state_unkeyed.events + excluded.events;
END $$;

-- The same for ticks (p_after, p_through], read from change_log as the tick functions read a
-- batch (eventhub_state_of_ticks, migration 0016). The caller holds the state lock and moves the
-- part's mark. Planned per call (they see the state's size); the ON clause leaves the key's hash
-- probe as the only way in (migration 0018).
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

CREATE FUNCTION eventhub_count_unkeyed_of_ticks(p_after bigint, p_through bigint) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan SET enable_seqscan = off AS $$
BEGIN
    INSERT INTO eventhub_state_unkeyed (project_id, event_type, events)
    SELECT b.project_id, b.event_type, count(*)
    FROM eventhub_tick t
    CROSS JOIN LATERAL (
        SELECT c.project_id, c.event_type FROM change_log c WHERE c.tx_id = ANY (t.ended)
        UNION ALL
        SELECT c.project_id, c.event_type FROM change_log c
        WHERE c.tx_id >= t.lo AND c.tx_id < t.hi AND pg_visible_in_snapshot(c.tx_id, t.snap)) b
    WHERE t.tick_id > p_after AND t.tick_id <= p_through
      AND NOT EXISTS (SELECT 1 FROM eventhub_entity_key k WHERE k.event_type = b.event_type)
    GROUP BY b.project_id, b.event_type
    ON CONFLICT (project_id, event_type) DO UPDATE SET events = eventhub_state_unkeyed.events + excluded.events;
END $$;

-- Folds the ticks after each part's mark, up to the newest (or p_through), at most p_max_ticks of
-- them, in the caller's transaction. Returns the tick through which both parts are folded after it
-- (entities not whole count as folded: a rebuild's turn). Needs READ COMMITTED: it looks again with
-- a fresh snapshot after the lock.
CREATE FUNCTION eventhub_fold_pending(p_max_ticks integer, p_through bigint DEFAULT NULL) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded  bigint; -- the entities' mark; null while they are not whole
    counted bigint; -- the unkeyed counts' mark
    head    bigint;
    upto    bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'eventhub_fold_pending needs READ COMMITTED (a fresh snapshot after the lock)';
    END IF;
    FOR attempt IN 1..2 LOOP
        -- One statement, one snapshot: a tick that folded itself committed its marks with it, so
        -- the lock (which makes ticks meanwhile leave their folds to the next pass) is taken only
        -- when a part is behind.
        SELECT (SELECT r.through_tick FROM eventhub_state_ready r), m.through_tick,
               least((SELECT coalesce(max(t.tick_id), 0) FROM eventhub_tick t), coalesce(p_through, 9223372036854775807))
        INTO folded, counted, head
        FROM eventhub_state_unkeyed_mark m;
        IF coalesce(folded, head) >= head AND counted >= head THEN
            RETURN least(coalesce(folded, head), counted);
        END IF;
        EXIT WHEN attempt = 2;
        PERFORM pg_advisory_xact_lock(5005267704866894945); -- "EvHubSta"
    END LOOP;
    IF folded < head THEN
        upto := least(head, folded + p_max_ticks);
        PERFORM eventhub_fold_ticks(folded, upto);
        UPDATE eventhub_state_ready SET through_tick = upto;
        folded := upto;
    END IF;
    IF counted < head THEN
        upto := least(head, counted + p_max_ticks);
        PERFORM eventhub_count_unkeyed_of_ticks(counted, upto);
        UPDATE eventhub_state_unkeyed_mark SET through_tick = upto;
        counted := upto;
    END IF;
    RETURN least(coalesce(folded, head), counted);
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

    -- At most fold_limit + 1 rows of each part are gathered: a tick with more is not held in memory
    -- (nor folded here) at all, so which rows a cut part holds does not matter, and each part is
    -- ordered by its array_agg. (The ended part was gathered whole: 1.5 s of sorting a 300,000-row
    -- load that was in progress at the last tick.)
    SELECT coalesce(array_agg(p.row ORDER BY (p.row).tx_id, (p.row).seq), '{}') INTO part1
    FROM (SELECT p.row FROM unnest(done) AS d(x)
          CROSS JOIN LATERAL (SELECT c AS row FROM change_log c WHERE c.tx_id = d.x OFFSET 0) AS p
          LIMIT fold_limit + 1) AS p;
    -- The range [hi, xmax) in the gaps between the xids running at cur, as the look above probes
    -- it (migration 0019): a load begun since the last tick and still running is not walked (every
    -- row it had written so far, read and dropped as invisible).
    SELECT coalesce(array_agg(r.row ORDER BY (r.row).tx_id, (r.row).seq), '{}') INTO part2
    FROM (SELECT c AS row FROM change_log c
          WHERE c.tx_id >= last.hi AND c.tx_id < coalesce(running[1], pg_snapshot_xmax(cur))
            AND pg_visible_in_snapshot(c.tx_id, cur)
          UNION ALL
          SELECT z.row FROM unnest(running, running[2:] || pg_snapshot_xmax(cur)) AS g(after, before)
          CROSS JOIN LATERAL (SELECT c AS row FROM change_log c
                              WHERE c.tx_id > g.after AND c.tx_id < g.before AND pg_visible_in_snapshot(c.tx_id, cur)) z
          WHERE g.after IS NOT NULL
          LIMIT greatest(0, fold_limit + 1 - cardinality(part1))) AS r;
    IF cardinality(part1) + cardinality(part2) > fold_limit THEN
        batch := null; -- folded after it: eventhub_fold_pending
    ELSE
        batch := part1 || part2;
        -- Each part folds here only right after the tick it is folded through, and only if no other
        -- fold (or rebuild) holds the state: a tick never waits for one. (Each mark's test is a
        -- statement after the lock: its snapshot sees what the lock's last holder committed.)
        -- The marks' rows are found by their key (with sequential scans off, a scan of a one-row
        -- table was priced at 10^10 and JIT-compiled in any session with JIT on).
        IF pg_try_advisory_xact_lock(5005267704866894945) THEN -- "EvHubSta"
            UPDATE eventhub_state_ready r SET through_tick = tick_id WHERE r.singleton AND r.through_tick = last.tick_id;
            IF FOUND THEN PERFORM eventhub_fold_rows(tick_id, batch); END IF;
            UPDATE eventhub_state_unkeyed_mark m SET through_tick = tick_id WHERE m.singleton AND m.through_tick = last.tick_id;
            IF FOUND THEN PERFORM eventhub_count_unkeyed(batch); END IF;
        END IF;
        IF cardinality(batch) > p_max_rows THEN
            batch := null;
        END IF;
    END IF;
    PERFORM pg_notify('eventhub_tick', tick_id::text);
    made := true;
END $$;

-- Replaced by the functions above (the ticker was their only caller).
DROP FUNCTION eventhub_apply_state(bigint);
DROP FUNCTION eventhub_fold_state(bigint, change_log[]);

ANALYZE eventhub_state_ready;
ANALYZE eventhub_state_unkeyed_mark;
