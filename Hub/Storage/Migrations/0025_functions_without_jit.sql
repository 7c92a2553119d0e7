-- Every function that prices out sequential scans runs without JIT, whatever its session has.
--
-- Why: with enable_seqscan = off each remaining sequential scan (the one-row bookkeeping tables
-- have no other path) costs 10^10 on paper, far past jit_above_cost, so in a session with the
-- server's JIT the statements inside were compiled on every call: the live state's fold of 6 ticks
-- (30,000 events) took 620-700 ms against 131-135 ms (lab, a 500,000-event log as autovacuum left
-- it). The hub's own sessions start with jit=off (HubDataSources), but a pooler that drops startup
-- options, or a connection string that sets its own, leaves them with the server's. The state read
-- sets it in its own transaction (LiveStateReader.PlanSetting).
ALTER FUNCTION eventhub_wait_for_commit(interval, interval) SET jit = off;
ALTER FUNCTION eventhub_advance_state_base(bigint) SET jit = off;
ALTER FUNCTION eventhub_rebuild_state(bigint) SET jit = off;
ALTER FUNCTION eventhub_fold_ticks(bigint, bigint) SET jit = off;
ALTER FUNCTION eventhub_count_unkeyed_of_ticks(bigint, bigint) SET jit = off;
ALTER FUNCTION eventhub_pending_rows_at_most(bigint, bigint, integer) SET jit = off;
ALTER FUNCTION eventhub_pending_state(bigint, bigint) SET jit = off;
ALTER FUNCTION eventhub_pending_unkeyed(bigint, bigint) SET jit = off;
ALTER FUNCTION eventhub_make_tick_rows(integer, bigint) SET jit = off;
