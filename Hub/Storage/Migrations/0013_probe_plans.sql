-- The ticker's statements probe change_log by index whatever its statistics say
-- (LargeLogPlanTests, "few transactions"). The xids that ended since the last tick are probed one
-- by one ("tx_id = x"); in a generic plan the planner estimates that at rows / n_distinct(tx_id),
-- which for a log written mostly by a few transactions (a bulk load, a restore, a backfill) is a
-- large share of it: the probe became a Seq Scan, and the "nothing new?" test a hash of the whole
-- log, on every look while any xid of the cluster had ended since the last tick (100,000 rows
-- read per look on a 100,000-row log written by one transaction). Every read these functions
-- make is an index probe or an index range scan (migrations 0007, 0010, 0012), and the small
-- tables they read have primary keys, so a sequential scan is never the plan wanted here. The
-- setting holds for what make_tick_rows calls (the folds) and for eventhub_make_tick() through it.
ALTER FUNCTION eventhub_make_tick_rows(integer) SET enable_seqscan = off;
ALTER FUNCTION eventhub_wait_for_commit(interval, interval) SET enable_seqscan = off;
