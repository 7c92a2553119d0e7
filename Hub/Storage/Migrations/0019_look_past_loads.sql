-- The ticker's "anything new?" test skips the rows of transactions still in progress.
--
-- Why: the test asked for the newest visible xid by one backward step down change_log_position_idx
-- (migration 0007) and compared it with the last tick's xmax. While the index's newest entries
-- belong to a transaction still in progress (a bulk load, with no later xid committing a row), that
-- step visits each of them, invisible, before it finds a visible row: during a 1,000,000-row
-- INSERT ... SELECT with no other writer every look took 130-370 ms, growing with the load (one
-- backend busy for the whole load, and another writer's commit meanwhile waited up to one such
-- look; bench/results/2026-12-04-bulk-load.md).
--
-- The rows no tick holds yet, besides those of the xids that ended since the last tick (probed one
-- by one, as before), are the committed rows from the last tick's xmax (hi) up to the new
-- snapshot's xmax. Every xid in that range is either in progress (the snapshot's xip) or ended, so
-- the committed rows lie in the gaps between the in-progress xids: [hi, r1), (r1, r2), ...,
-- (rk, xmax). Each gap is probed by an index range scan that stops at its first visible row; rows of
-- an in-progress transaction are in no gap, so a load is never walked. An empty look costs k + 1
-- probes for the k transactions begun since the last tick and still running (usually a few), where
-- it cost one backward step. Rows of xids from the snapshot's xmax on (begun after it) are left to
-- the next look: this snapshot is the tick's, and the tick would not hold them (the backward step
-- saw them, and made a tick that held none of them).
--
-- Same rules as migration 0013: every read is an index probe or range in any plan (sequential and
-- bitmap scans off for these functions), LargeLogPlanTests counts what looks read, now also beside
-- a load in progress.

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
    -- Nothing new: no committed row in the gaps between the running xids from hi to cur's xmax,
    -- and none of an xid that ended since the last tick (one index probe each).
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

-- The ticker's wait for a commit (migration 0012), with the same test: it decides only when the
-- tick function runs.
CREATE OR REPLACE FUNCTION eventhub_wait_for_commit(p_wait interval, p_step interval) RETURNS boolean
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off AS $$
DECLARE
    last    eventhub_tick;
    cur     pg_snapshot;
    running xid8[];
    until   timestamptz := clock_timestamp() + p_wait;
BEGIN
    SELECT * INTO last FROM eventhub_tick t ORDER BY t.tick_id DESC LIMIT 1;
    LOOP
        cur := pg_current_snapshot();
        SELECT coalesce(array_agg(x ORDER BY x), '{}') INTO running
        FROM pg_snapshot_xip(cur) AS x WHERE x >= last.hi;
        IF EXISTS (SELECT 1 FROM change_log c
                   WHERE c.tx_id >= last.hi AND c.tx_id < coalesce(running[1], pg_snapshot_xmax(cur)))
           OR (cardinality(running) > 0 AND EXISTS (
               SELECT 1 FROM unnest(running, running[2:] || pg_snapshot_xmax(cur)) AS g(after, before)
               WHERE EXISTS (SELECT 1 FROM change_log c WHERE c.tx_id > g.after AND c.tx_id < g.before)))
           OR EXISTS (SELECT 1 FROM pg_snapshot_xip(last.snap) AS x
                      WHERE pg_visible_in_snapshot(x, cur)
                        AND EXISTS (SELECT 1 FROM change_log c WHERE c.tx_id = x)) THEN
            RETURN true;
        END IF;
        EXIT WHEN clock_timestamp() >= until;
        -- pg_sleep waits whole milliseconds, rounded up from a difference of float clock readings:
        -- pg_sleep(0.001) slept 2 ms (500 in 1,036 ms), pg_sleep(0.0008) one. Hence the 0.2 ms off.
        PERFORM pg_sleep(greatest(least(extract(epoch FROM p_step), extract(epoch FROM until - clock_timestamp())) - 0.0002, 0.0001));
    END LOOP;
    RETURN false;
END $$;
