-- The live state's key compares bytewise, whatever the database's collation.
-- Every new entity costs the fold a probe and an insert on eventhub_state_pkey, each a descent of
-- the B-tree comparing entity keys. In a database created with a libc locale such as en_US.UTF-8
-- (the default of most installers and of the postgres container image) each comparison of two
-- different keys is a strcoll call: folding 200 new entities took 6.1-8.5 ms there against
-- 3.4-3.7 ms in a "C" database (lab, a state of 100,000 entities; an ICU en-US database: 3.5-4.1).
-- Nothing needs the key in a language's order: the fold joins on equality, a state read takes one
-- project's range and the hub orders what it returns itself. With the columns in "C" the same
-- fold took 3.5-3.7 ms in the en_US.UTF-8 database. Comparisons with the default collation (the
-- fold's rows from change_log, a read's project list) take the columns' "C" (a column's explicit
-- collation wins over the default), so the statements stay as they are and keep their index.
-- Only the indexes are rebuilt (a collation change of the same type rewrites no rows).
ALTER TABLE eventhub_state
    ALTER COLUMN project_id TYPE text COLLATE "C",
    ALTER COLUMN kind TYPE text COLLATE "C",
    ALTER COLUMN entity_key TYPE text COLLATE "C";
