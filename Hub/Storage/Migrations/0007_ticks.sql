-- Change-log core v2 (docs/design.md, "Ordering: ticks"): the log's order is a sequence of ticks,
-- each a stored pg_current_snapshot(). Batch N is the rows visible in tick N's snapshot and not in
-- tick N-1's: the xids in progress at N-1 that have ended by N (ended), plus the range
-- [xmax(N-1), xmax(N)) filtered by N's snapshot. lo and ended are stored (PgQ recomputes them) so
-- that a batch is a function of one immutable row: every node reads the same rows, and pruning
-- older ticks never changes a batch. Readers order a batch by (tx_id, seq): each part is a range
-- scan of change_log_position_idx, and every ended xid is below lo, so the list part sorts wholly
-- before the range part.
CREATE TABLE eventhub_tick (
    tick_id    bigint PRIMARY KEY,          -- dense: 1, 2, 3 ... (assigned under the tick lock)
    snap       pg_snapshot NOT NULL,
    lo         xid8 NOT NULL,               -- xmax of the previous tick's snapshot ('0' for the first)
    hi         xid8 NOT NULL,               -- xmax of snap
    ended      xid8[] NOT NULL,             -- xids in progress at the previous tick, ended by this one
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Retention finds the tick of a row (the first tick whose xmax is above its xid) and the newest
-- tick older than an age.
CREATE INDEX eventhub_tick_hi_idx ON eventhub_tick (hi, tick_id);
CREATE INDEX eventhub_tick_created_idx ON eventhub_tick (created_at);

-- The first tick: every row committed before this migration, in (tx_id, seq) order, which is the
-- order the previous core delivered. Offsets of that core ({epoch}.{xid}.{seq}) with an xid below
-- this tick's xmin are therefore exact positions in it (genesis_xmin); later ones get a reset.
INSERT INTO eventhub_tick (tick_id, snap, lo, hi, ended)
SELECT 1, s, '0', pg_snapshot_xmax(s), '{}' FROM pg_current_snapshot() AS s;
ALTER TABLE eventhub_epoch ADD COLUMN genesis_xmin xid8;
UPDATE eventhub_epoch SET genesis_xmin = (SELECT pg_snapshot_xmin(snap) FROM eventhub_tick WHERE tick_id = 1);

-- Retention records the tick of the last pruned position too: pruned_through is now
-- (tick, xid, seq); (tick, max, max) means "all of that tick".
ALTER TABLE eventhub_retention ADD COLUMN pruned_through_tick bigint NOT NULL DEFAULT 0;
-- What the previous core pruned was final before the first tick: it lies in tick 1.
UPDATE eventhub_retention SET pruned_through_tick = 1 WHERE pruned_through_xid <> '0';

-- The tick whose batch holds the rows of transaction tx: the first tick whose snapshot sees it
-- committed (null: in none yet, or pruned). Ticks' xmax only grow, so (hi, tick_id) is tick order.
-- For retention, operators and tests: the log's order is (eventhub_tick_of(tx_id), tx_id, seq).
CREATE FUNCTION eventhub_tick_of(tx xid8) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT t.tick_id FROM eventhub_tick t
    WHERE t.hi > tx AND pg_visible_in_snapshot(tx, t.snap)
    ORDER BY t.hi, t.tick_id LIMIT 1
$$;

-- Which node ticks: a lease on the database clock. Leadership is for liveness and load only;
-- safety never depends on it (two tickers at once make more ticks, serialised by the lock below).
CREATE TABLE eventhub_ticker (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    owner      uuid,
    expires_at timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO eventhub_ticker DEFAULT VALUES;

-- Makes the next tick if a committed row is in no tick yet; returns the newest tick and whether it
-- is new. Any session may call it (the hub's head offset does).
--
-- Race guarded (PgQ's force_tick warns that parallel tickers "cannot be protected with locks as
-- snapshot is taken before locking"): the snapshot is taken by a statement *after* the lock, so in
-- READ COMMITTED it is newer than the previous ticker's commit, and every tick's snapshot contains
-- the previous one's. Hence S1 <= S2 <= ... and each committed transaction's rows fall in exactly
-- one batch: the first tick whose snapshot sees it.
CREATE FUNCTION eventhub_make_tick(OUT tick_id bigint, OUT made boolean) LANGUAGE plpgsql AS $$
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
    -- Nothing new: no committed row above the last tick's xmax, and none of a transaction that
    -- was in progress at the last tick. (These read a snapshot at least as new as cur; a row they
    -- see that cur does not only makes this tick empty and the next one carry it.)
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
    -- The wake-up of every hub: one NOTIFY per tick, from the ticker's commit only; writers send none.
    PERFORM pg_notify('eventhub_tick', (last.tick_id + 1)::text);
    tick_id := last.tick_id + 1;
    made := true;
END $$;

-- The ticker's call: holds or takes the lease for p_owner, then ticks. The lease is renewed once a
-- quarter of it has passed (an UPDATE every ~250 ms for a 1 s lease; the calls between are
-- read-only and take no xid unless they tick). leader = false: another node holds a live lease.
CREATE FUNCTION eventhub_tick(p_owner uuid, p_lease interval, OUT tick_id bigint, OUT made boolean, OUT leader boolean)
LANGUAGE plpgsql AS $$
DECLARE
    holder  uuid;
    expires timestamptz;
BEGIN
    SELECT t.owner, t.expires_at INTO holder, expires FROM eventhub_ticker t;
    IF holder IS DISTINCT FROM p_owner OR expires < clock_timestamp() + p_lease * 0.75 THEN
        -- Renew or take over; the WHERE is re-checked on the latest row version, so of two nodes
        -- racing for an expired lease one wins.
        UPDATE eventhub_ticker t SET owner = p_owner, expires_at = clock_timestamp() + p_lease
        WHERE t.owner IS NOT DISTINCT FROM p_owner OR t.expires_at < clock_timestamp();
        IF NOT FOUND THEN
            leader := false;
            RETURN;
        END IF;
    END IF;
    leader := true;
    SELECT m.tick_id, m.made INTO tick_id, made FROM eventhub_make_tick() m;
END $$;

-- Writers pay only their insert: the per-statement NOTIFY (which serialises the commits of every
-- notifying transaction) is gone; the ticker notifies once per tick. An opt-in writer wake-up that
-- makes the ticker look at once is in docs/deploy.md (it costs write throughput; bench/results).
DROP TRIGGER change_log_wake ON change_log;

ANALYZE eventhub_tick;
ANALYZE eventhub_ticker;
ANALYZE eventhub_epoch;
ANALYZE eventhub_retention;
