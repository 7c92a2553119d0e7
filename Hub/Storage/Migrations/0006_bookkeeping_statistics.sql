-- Statistics for the one-row bookkeeping tables. Never analyzed (autovacuum waits for 50 changed
-- rows, which a one-row table rarely reaches), an empty-looking table is assumed to span ten pages:
-- ~1,500 rows. The tail's read joins eventhub_retention, so the planner took every tail read for a
-- 1.5-million-row join and JIT-compiled it (92 ms instead of 4 ms on a log of a few hundred rows).
-- ANALYZE runs inside the migration's transaction; its statistics commit with it.
ANALYZE eventhub_retention;
ANALYZE eventhub_epoch;
