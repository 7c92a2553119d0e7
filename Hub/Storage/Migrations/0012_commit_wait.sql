-- The ticker's wait for a commit, inside the database (docs/design.md, "Costs"; opt-in with
-- Ticker:WaitInDatabase). An empty look from the hub is a round trip every Ticker:Interval while
-- events trickle in, and each round trip wakes threads of the hub (about two thirds of its CPU at
-- 100 events/s). With the setting, the ticker sends this in the same batch as its tick function:
-- it returns as soon as a committed row is in no tick yet, looking every p_step, or after p_wait;
-- so a round trip comes about once per tick.
--
-- The test is the tick function's own (migration 0010, "Nothing new"), negated: the newest
-- committed xid at or above the last tick's xmax, or a row of an xid that was in progress at the
-- last tick and has ended. Each statement here has a fresh snapshot (READ COMMITTED), so every
-- look sees the commits made since the one before; it holds no lock and takes no xid. It only
-- decides when the tick function runs: that function takes its own snapshot after the tick lock,
-- so a wrong answer here could only make a tick later or a look wasted, never change a batch.
CREATE FUNCTION eventhub_wait_for_commit(p_wait interval, p_step interval) RETURNS boolean
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    last  eventhub_tick;
    until timestamptz := clock_timestamp() + p_wait;
BEGIN
    SELECT * INTO last FROM eventhub_tick t ORDER BY t.tick_id DESC LIMIT 1;
    LOOP
        IF coalesce((SELECT c.tx_id FROM change_log c ORDER BY c.tx_id DESC LIMIT 1), '0') >= last.hi
           OR EXISTS (SELECT 1 FROM pg_snapshot_xip(last.snap) AS x
                      WHERE pg_visible_in_snapshot(x, pg_current_snapshot())
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
