-- The ticker's look probes change_log in position order, so that no plan can read the
-- per-project index whole (issue 13, point 7; found by the bench's "as users meet it" cell).
--
-- Why: the look asks "is there a committed row in this range of xids?" of change_log three ways
-- (the range since the last tick, each gap between the xids running now, each xid ended since),
-- and asked it with EXISTS. PL/pgSQL caches one generic plan per statement (force_generic_plan),
-- and for EXISTS the planner costs an index path by its startup cost plus the share of its total
-- it expects to read before the first match. change_log_project_position_idx (project_id, tx_id,
-- seq) can evaluate the tx_id bounds too, as conditions on its second column, over the whole index;
-- with a generic range estimated at a ninth of the table, that full scan looked as cheap as the
-- range scan of change_log_position_idx (tx_id, seq), and cheaper once the session costed the two
-- indexes with different tree heights (each backend caches an index's root height with its
-- metapage and keeps it until the index's cache entry is rebuilt: 0.17 against 0.42 of startup in
-- the ticker's session of a hub that started on a small log). A look whose gap held no committed
-- row, as when any transaction holding an xid began after the last tick, then read all of that
-- index: 5,912 buffers and 16 ms a gap on 600,000 rows, 30-50 ms a look, one after the other
-- (lab, 2026-12-07; the bench's cell showed it as p99 latency).
--
-- How: each probe asks for the first row in position order (ORDER BY tx_id, seq LIMIT 1). Only
-- change_log_position_idx gives that order without a sort; the per-project index would have to
-- read and sort every row it matches, so no statistics and no cached height make it the cheaper
-- plan. An ended xid is probed as the range [x, x], not as tx_id = x: with tx_id fixed the order
-- is seq's alone, which the primary key gives, and a plan that walked the primary key from its
-- start for the xid's first row looked as cheap (LargeLogPlanTests). The answers are the same as
-- before. The function's other statements take up to p_max_rows + 1 rows, a share of a
-- whole-index scan large enough that its startup cost does not decide.

CREATE OR REPLACE FUNCTION eventhub_make_tick_rows(p_max_rows integer, p_max_bytes bigint DEFAULT NULL,
                                        OUT tick_id bigint, OUT made boolean, OUT batch change_log[])
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off AS $$
DECLARE
    last    eventhub_tick;
    cur     pg_snapshot;
    done    xid8[];
    running xid8[];
    part1   change_log[];
    part2   change_log[];
    wanted  integer := greatest(p_max_rows, 0) + 1; -- one more than the hand-off takes: "too many" is known
    n       bigint;
    bytes   bigint;
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
    -- Each probe is the first row in position order (see the header): only change_log_position_idx
    -- returns it without a sort, whatever the statistics or the heights the session has cached.
    IF (SELECT c.seq FROM change_log c
        WHERE c.tx_id >= last.hi AND c.tx_id < coalesce(running[1], pg_snapshot_xmax(cur))
        ORDER BY c.tx_id, c.seq LIMIT 1) IS NULL
       AND NOT (cardinality(running) > 0 AND EXISTS (
           SELECT 1 FROM unnest(running, running[2:] || pg_snapshot_xmax(cur)) AS g(after, before)
           WHERE (SELECT c.seq FROM change_log c WHERE c.tx_id > g.after AND c.tx_id < g.before
                  ORDER BY c.tx_id, c.seq LIMIT 1) IS NOT NULL))
       AND NOT (cardinality(done) > 0 AND EXISTS (
           SELECT 1 FROM unnest(done) AS d(x)
           WHERE (SELECT c.seq FROM change_log c WHERE c.tx_id >= d.x AND c.tx_id <= d.x
                  ORDER BY c.tx_id, c.seq LIMIT 1) IS NOT NULL)) THEN
        tick_id := last.tick_id;
        made := false;
        batch := '{}';
        RETURN;
    END IF;
    tick_id := last.tick_id + 1;
    INSERT INTO eventhub_tick (tick_id, snap, lo, hi, ended)
    VALUES (tick_id, cur, last.hi, pg_snapshot_xmax(cur), done);

    -- With a payload bound, first the rows' count (up to p_max_rows + 1) and their payloads' size as
    -- stored, from the same rows as the gathering below (the tick's snapshot decides them, not
    -- this statement's): pg_column_size reads a toasted payload's header, not its value. A tick
    -- past either bound is not gathered at all. (Gathering makes each row a composite value, which
    -- fetches its toasted payload whole: a tick of 1,000 rows of 1 MB took longer than the
    -- ticker's round timeout, was cancelled, and was tried again forever, every stream stalled.)
    IF p_max_bytes IS NOT NULL THEN
        SELECT count(*), coalesce(sum(z.size), 0) INTO n, bytes
        FROM ((SELECT pg_column_size(p.payload) AS size
               FROM unnest(done) AS d(x)
               CROSS JOIN LATERAL (SELECT c.payload FROM change_log c WHERE c.tx_id = d.x OFFSET 0) AS p
               LIMIT wanted)
              UNION ALL
              (SELECT pg_column_size(c.payload) FROM change_log c
               WHERE c.tx_id >= last.hi AND c.tx_id < coalesce(running[1], pg_snapshot_xmax(cur))
                 AND pg_visible_in_snapshot(c.tx_id, cur)
               UNION ALL
               SELECT pg_column_size(y.payload) FROM unnest(running, running[2:] || pg_snapshot_xmax(cur)) AS g(after, before)
               CROSS JOIN LATERAL (SELECT c.payload FROM change_log c
                                   WHERE c.tx_id > g.after AND c.tx_id < g.before AND pg_visible_in_snapshot(c.tx_id, cur)) y
               WHERE g.after IS NOT NULL
               LIMIT wanted)
              LIMIT wanted) AS z;
        IF n > p_max_rows OR bytes > p_max_bytes THEN
            batch := null; -- too large to hand over: read like any tick
            PERFORM pg_notify('eventhub_tick', tick_id::text);
            made := true;
            RETURN;
        END IF;
    END IF;

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

CREATE OR REPLACE FUNCTION eventhub_wait_for_commit(p_wait interval, p_step interval) RETURNS boolean
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off SET jit = off AS $$
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
        IF (SELECT c.seq FROM change_log c
            WHERE c.tx_id >= last.hi AND c.tx_id < coalesce(running[1], pg_snapshot_xmax(cur))
            ORDER BY c.tx_id, c.seq LIMIT 1) IS NOT NULL
           OR (cardinality(running) > 0 AND EXISTS (
               SELECT 1 FROM unnest(running, running[2:] || pg_snapshot_xmax(cur)) AS g(after, before)
               WHERE (SELECT c.seq FROM change_log c WHERE c.tx_id > g.after AND c.tx_id < g.before
                      ORDER BY c.tx_id, c.seq LIMIT 1) IS NOT NULL))
           OR EXISTS (SELECT 1 FROM pg_snapshot_xip(last.snap) AS x
                      WHERE pg_visible_in_snapshot(x, cur)
                        AND (SELECT c.seq FROM change_log c WHERE c.tx_id >= x AND c.tx_id <= x
                             ORDER BY c.tx_id, c.seq LIMIT 1) IS NOT NULL) THEN
            RETURN true;
        END IF;
        EXIT WHEN clock_timestamp() >= until;
        -- pg_sleep waits whole milliseconds, rounded up from a difference of float clock readings:
        -- pg_sleep(0.001) slept 2 ms (500 in 1,036 ms), pg_sleep(0.0008) one. Hence the 0.2 ms off.
        PERFORM pg_sleep(greatest(least(extract(epoch FROM p_step), extract(epoch FROM until - clock_timestamp())) - 0.0002, 0.0001));
    END LOOP;
    RETURN false;
END $$;
