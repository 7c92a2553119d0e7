-- The folds find an entity by a hash index of its key instead of a B-tree descent of the primary key.
--
-- Why: the fold is most of what a tick costs the database (pg_stat_statements, one session making
-- ticks of 130 new entities: 2.0-2.6 of 2.3-3.0 ms per tick), and for each new entity it is two
-- descents of eventhub_state_pkey, a B-tree of three text columns: a probe (the MERGE's join) and an
-- insert, each comparing three columns per level, on a tree that deepens as the state grows (every
-- PR, check and thread ever seen stays in it). A hash index finds a key in one bucket whatever the
-- state's size. Folding 130 new entities into a state of 3,500,000 took 1.56-1.83 against
-- 2.25-2.74 ms (lab, same data, alternating); under 8 writers, on a state of 7,700,000, the
-- ticker's session spent 24-38 against 49-55 us of CPU per event (docs/design.md, "Live state").
-- On the bench's small state it changes nothing measurable.
--
-- The key's hash index takes entity_key alone (a hash index has one column): keys are unique across
-- projects and kinds for the built-in types (a session's id, a PR's url, a check's (pr, name,
-- commit), a thread's (pr, thread)); a configured key that repeats across projects makes a probe
-- visit each project's entity of that key and keep the one the join names.
--
-- What the primary key did besides: its range per project served the state read; a B-tree on
-- project_id does now (a duplicate key costs an insert there a short descent by heap position). It
-- enforced one row per (project, kind, key): every statement that writes eventhub_state (the folds,
-- the rebuild) runs under the tick lock and writes at most one row per key (DISTINCT ON, MERGE on
-- the whole key), so nothing else writes one meanwhile. eventhub_state_base (migration 0016), a
-- logged table folded every few minutes, keeps its primary key.

-- Rolling upgrade: no tick (and no fold) runs while the indexes change.
SELECT pg_advisory_xact_lock(5005267704866957675); -- "EvHubTik"

CREATE INDEX eventhub_state_entity ON eventhub_state USING hash (entity_key);
CREATE INDEX eventhub_state_project ON eventhub_state (project_id);
ALTER TABLE eventhub_state DROP CONSTRAINT eventhub_state_pkey;

-- The folds' MERGE keeps migration 0014's enable_seqscan = off; its plan for a tick is a nested
-- loop probing the key's index (StateLookupTests counts one probe per entity, both folds, on an
-- analyzed state of 100,000 entities).
ANALYZE eventhub_state;
