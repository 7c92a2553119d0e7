-- The live state's reads of whole ticks read a tick's range in the gaps between the xids its
-- snapshot saw in progress, as the pages (TickBatchSql) and the ticker's look (migration 0019) do.
--
-- Why: a tick made while a bulk load ran holds the load's xid inside its range [lo, hi), in
-- progress to its snapshot; the load's rows belong to a later tick. eventhub_state_of_ticks (the
-- background fold, retention's base, the rebuild after a crash) and
-- eventhub_count_unkeyed_of_ticks read that range filtered by visibility and so walked every row of
-- the load once more than its own tick reads them: the fold of a 100,000-row load and the tick made
-- beside it read 400,020 index entries instead of 200,020, the rebuild 201,010 instead of 101,010
-- (LargeLogPlanTests).
--
-- How: one function gives a tick's rows, eventhub_rows_of_tick: its ended xids probed, the range
-- [lo, r1) and the gaps (r1, r2), ..., (rk, hi) between the xids r1 < ... < rk its snapshot saw
-- running (pg_snapshot_xip is ascending), each an index range scan. A single-SELECT SQL function
-- that the planner inlines, so each scan keeps the tick's bounds as parameters. Both readers of
-- whole ticks use it; their output is unchanged (the rows of xids in progress at the tick are not
-- visible to it either way).

CREATE FUNCTION eventhub_rows_of_tick(t eventhub_tick) RETURNS SETOF change_log LANGUAGE sql STABLE AS $$
    SELECT c.* FROM change_log c WHERE c.tx_id = ANY (t.ended)
    UNION ALL
    SELECT c.* FROM change_log c
    WHERE c.tx_id >= t.lo
      AND c.tx_id < coalesce((SELECT min(x) FROM pg_snapshot_xip(t.snap) AS x WHERE x >= t.lo), t.hi)
      AND pg_visible_in_snapshot(c.tx_id, t.snap)
    UNION ALL
    SELECT g.* FROM (SELECT ARRAY(SELECT x FROM pg_snapshot_xip(t.snap) AS x WHERE x >= t.lo) AS r) k
    CROSS JOIN LATERAL unnest(k.r, k.r[2:] || t.hi) AS w(after, before)
    CROSS JOIN LATERAL (SELECT c.* FROM change_log c
                        WHERE c.tx_id > w.after AND c.tx_id < w.before AND pg_visible_in_snapshot(c.tx_id, t.snap)) g
    WHERE w.after IS NOT NULL
$$;

-- Migration 0016's function, reading each tick through eventhub_rows_of_tick.
CREATE OR REPLACE FUNCTION eventhub_state_of_ticks(p_after bigint, p_through bigint) RETURNS SETOF eventhub_state
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (n.project_id, n.kind, n.entity_key)
           n.project_id, n.kind, n.entity_key, n.tick_id, n.tx_id, n.seq, n.event_type, n.session_id, n.payload, n.created_at
    FROM (SELECT b.project_id, k.kind, eventhub_entity_key(b.payload, k.key_fields) AS entity_key,
                 t.tick_id, b.tx_id, b.seq, b.event_type, b.session_id, b.payload, b.created_at
          FROM eventhub_tick t
          CROSS JOIN LATERAL eventhub_rows_of_tick(t) b
          JOIN eventhub_entity_key k ON k.event_type = b.event_type
          WHERE t.tick_id > p_after AND t.tick_id <= p_through) n
    ORDER BY n.project_id, n.kind, n.entity_key, n.seq DESC
$$;

-- Migration 0020's function, the same way.
CREATE OR REPLACE FUNCTION eventhub_count_unkeyed_of_ticks(p_after bigint, p_through bigint) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan SET enable_seqscan = off AS $$
BEGIN
    INSERT INTO eventhub_state_unkeyed (project_id, event_type, events)
    SELECT b.project_id, b.event_type, count(*)
    FROM eventhub_tick t
    CROSS JOIN LATERAL eventhub_rows_of_tick(t) b
    WHERE t.tick_id > p_after AND t.tick_id <= p_through
      AND NOT EXISTS (SELECT 1 FROM eventhub_entity_key k WHERE k.event_type = b.event_type)
    GROUP BY b.project_id, b.event_type
    ON CONFLICT (project_id, event_type) DO UPDATE SET events = eventhub_state_unkeyed.events + excluded.events;
END $$;
