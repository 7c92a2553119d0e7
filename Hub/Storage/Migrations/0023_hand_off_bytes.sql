-- The ticker's hand-off is bounded by its payloads' size as well as by rows (Ticker:HandOffPayloadBytes).
--
-- Why: the tick function gathers the batch it hands over (up to Ticker:HandOffRows rows) as an
-- array of change_log rows, and making a row a composite value fetches its toasted payload whole.
-- A tick of 1,000 rows of 1 MB payloads (one transaction of a bulk import of documents) took the
-- round longer than Ticker:RoundTimeout (5 s): the ticker cancelled it, tried again, and again,
-- and no tick was ever made again: every stream of every project stalled (lab, 2026-12-06). A
-- gathering of more than 1 GB would fail outright (PostgreSQL's largest allocation).
--
-- How: eventhub_make_tick_rows takes p_max_bytes; when given, it first counts the tick's rows
-- (up to p_max_rows + 1) and sums their payloads' stored size (pg_column_size: a toasted value's
-- header, no fetch), and gathers nothing for a tick past either bound (the tail reads it, in pages
-- bounded by Stream:TailBatchPayloadBytes). A tick past p_max_rows is no longer gathered either:
-- the count stops at p_max_rows + 1 without making any row a composite. eventhub_tick_rows takes
-- the bound from the hub; its previous signature (a hub of the previous version during a rolling
-- upgrade) passes 4 MiB, the new default. eventhub_make_tick (no hand-off) is unchanged: it
-- gathers at most one row.

DROP FUNCTION eventhub_make_tick_rows(integer);

CREATE FUNCTION eventhub_make_tick_rows(p_max_rows integer, p_max_bytes bigint DEFAULT NULL,
                                        OUT tick_id bigint, OUT made boolean, OUT batch change_log[])
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off AS $$
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

CREATE FUNCTION eventhub_tick_rows(p_owner uuid, p_lease interval, p_max_rows integer, p_max_bytes bigint)
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
    SELECT * INTO r FROM eventhub_make_tick_rows(p_max_rows, p_max_bytes) m;
    IF r.made AND r.batch IS NOT NULL AND cardinality(r.batch) > 0 THEN
        RETURN QUERY SELECT r.tick_id, true, true, true, b.tx_id::text, b.seq, b.project_id, b.session_id, b.event_type, b.payload::text, b.created_at
                     FROM unnest(r.batch) WITH ORDINALITY AS b ORDER BY b.ordinality;
    ELSE
        RETURN QUERY SELECT r.tick_id, r.made, true, r.made AND r.batch IS NOT NULL, null::text, null::bigint, null::text, null::text, null::text, null::text, null::timestamptz;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION eventhub_tick_rows(p_owner uuid, p_lease interval, p_max_rows integer)
RETURNS TABLE (tick_id bigint, made boolean, leader boolean, has_rows boolean,
               tx text, seq bigint, project_id text, session_id text, event_type text, payload text, created_at timestamptz)
LANGUAGE sql AS $$
    SELECT * FROM eventhub_tick_rows(p_owner, p_lease, p_max_rows, 4194304)
$$;
