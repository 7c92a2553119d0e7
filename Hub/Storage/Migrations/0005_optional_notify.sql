-- NOTIFY makes PostgreSQL serialise the commits of notifying transactions (a database-wide lock
-- held through the commit), which costs writers most of the trigger overhead (bench/results).
-- Operators who prefer write throughput to wake-up latency can turn it off per database or per
-- role, and let the hub poll instead:
--   ALTER DATABASE eventhub SET eventhub.notify = 'off';   -- plus Stream:PollInterval of a few ms
-- Unset or anything but 'off' keeps the default: notify after every commit that wrote events.
CREATE OR REPLACE FUNCTION change_log_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('eventhub.notify', true), 'on') <> 'off' THEN
        PERFORM pg_notify('eventhub_change_log', '');
    END IF;
    RETURN NULL;
END $$;
