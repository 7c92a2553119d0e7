-- Retention prunes a prefix of the log in position order and records how far it went, in the
-- same transaction, so a reader can tell "nothing after your offset" from "pruned after your
-- offset" in the very query that reads the log.
CREATE TABLE eventhub_retention (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pruned_through_xid xid8 NOT NULL DEFAULT '0',
    pruned_through_seq bigint NOT NULL DEFAULT 0,
    pruned_at          timestamptz
);
INSERT INTO eventhub_retention DEFAULT VALUES;
