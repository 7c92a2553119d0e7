-- The live state is folded after every tick, by another transaction, never inside the tick.
--
-- Why: the tick's statement is on every event's path (commit, the ticker's look, the tick's
-- statement and durable commit, the hand-off, the client), and its fold of the batch into
-- eventhub_state (the MERGE, the unkeyed counts, the two marks under the state lock) was most of
-- it: a one-row tick took 0.40-0.47 ms from storing the tick row to its commit with the fold and
-- 0.16-0.18 ms without (lab, bench/tick-stages.cs: pg_xact_commit_timestamp of the tick against its created_at, two
-- alternating pairs; bench/results/2026-12-05-fold-after-tick.md). Large ticks were already
-- folded after (migration 0020); now every tick is.
--
-- How: eventhub_make_tick_rows no longer folds; it gathers at most the rows it hands over
-- (p_max_rows, Ticker:HandOffRows) instead of the fold's 10,000. LiveStateUpkeep folds the ticks
-- after the state's marks each second on every node (eventhub_fold_pending, set-based, as it did
-- for large ticks; a second's ticks folded at once cost the writers' cores less than a MERGE per
-- tick: the hub's sessions 13 against 30 us of CPU per insert under 8 writers). A state read still
-- holds every tick made before it: in its one statement it reads the ticks after the marks itself
-- when they hold at most LiveStateReader.PendingRows rows (the functions at the end), and answers
-- as of the marks, exactly, when they hold more (a large tick being folded; nothing waits on a fold).

CREATE OR REPLACE FUNCTION eventhub_make_tick_rows(p_max_rows integer, OUT tick_id bigint, OUT made boolean, OUT batch change_log[])
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off AS $$
DECLARE
    last    eventhub_tick;
    cur     pg_snapshot;
    done    xid8[];
    running xid8[];
    part1   change_log[];
    part2   change_log[];
    wanted  integer := greatest(p_max_rows, 0) + 1; -- one more than the hand-off takes: "too many" is known
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

    -- At most p_max_rows + 1 rows are gathered: a tick with more is not handed over at all (the
    -- tail reads it), so which rows a cut part holds does not matter, and each part is ordered by
    -- its array_agg. (The ended part was gathered whole: 1.5 s of sorting a 300,000-row load that
    -- was in progress at the last tick.)
    SELECT coalesce(array_agg(p.row ORDER BY (p.row).tx_id, (p.row).seq), '{}') INTO part1
    FROM (SELECT p.row FROM unnest(done) AS d(x)
          CROSS JOIN LATERAL (SELECT c AS row FROM change_log c WHERE c.tx_id = d.x OFFSET 0) AS p
          LIMIT wanted) AS p;
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
          LIMIT greatest(0, wanted - cardinality(part1))) AS r;
    IF cardinality(part1) + cardinality(part2) > p_max_rows THEN
        batch := null; -- too large to hand over: read like any tick
    ELSE
        batch := part1 || part2;
    END IF;
    PERFORM pg_notify('eventhub_tick', tick_id::text);
    made := true;
END $$;

-- The in-tick fold's two functions lose their only caller; eventhub_fold_ticks and
-- eventhub_count_unkeyed_of_ticks (migrations 0020, 0021) fold every tick now.
DROP FUNCTION eventhub_fold_rows(bigint, change_log[]);
DROP FUNCTION eventhub_count_unkeyed(change_log[]);

-- The state read (LiveStateReader) answers as of the newest tick: it reads the ticks after the
-- state's marks itself, each entity's latest row (what the fold will write), when they hold at
-- most p_max_rows rows, and merges them with the state's rows. These three functions are those
-- reads. Functions with their own settings, so never inlined into the read: each of their reads
-- is an index range scan of the ticks' rows whatever the planner guesses of the caller's query
-- (inlined, a read of every project planned sequential scans of change_log for them). STABLE: they
-- run in the read's snapshot.
CREATE FUNCTION eventhub_pending_rows_at_most(p_after bigint, p_through bigint, p_max_rows integer) RETURNS boolean
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan SET enable_seqscan = off SET enable_bitmapscan = off AS $$
BEGIN
    RETURN (SELECT count(*) FROM (SELECT 1 FROM eventhub_tick t CROSS JOIN LATERAL eventhub_rows_of_tick(t) b
                                  WHERE t.tick_id > p_after AND t.tick_id <= p_through LIMIT p_max_rows + 1) c) <= p_max_rows;
END $$;

CREATE FUNCTION eventhub_pending_state(p_after bigint, p_through bigint) RETURNS SETOF eventhub_state
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan SET enable_seqscan = off SET enable_bitmapscan = off AS $$
BEGIN
    RETURN QUERY SELECT * FROM eventhub_state_of_ticks(p_after, p_through);
END $$;

CREATE FUNCTION eventhub_pending_unkeyed(p_after bigint, p_through bigint) RETURNS TABLE (project_id text, event_type text)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan SET enable_seqscan = off SET enable_bitmapscan = off AS $$
BEGIN
    RETURN QUERY SELECT DISTINCT b.project_id, b.event_type
                 FROM eventhub_tick t CROSS JOIN LATERAL eventhub_rows_of_tick(t) b
                 WHERE t.tick_id > p_after AND t.tick_id <= p_through
                   AND NOT EXISTS (SELECT 1 FROM eventhub_entity_key k WHERE k.event_type = b.event_type);
END $$;
