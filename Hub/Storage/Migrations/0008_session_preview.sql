-- The orchestrator's sessions gained first_signal_at, preview_url and preview_revision
-- (shared/reference/cdc-contract.md, sections 1 and 2; issue 15, point 0). session_updated now also
-- fires when first_signal_at goes from NULL to set and when preview_url or preview_revision
-- changes, and carries previewUrl and previewRevision. session_created keeps its three fields, as
-- upstream's trigger does.
ALTER TABLE sessions
    ADD COLUMN first_signal_at  timestamptz,
    ADD COLUMN preview_url      text,
    ADD COLUMN preview_revision integer NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION change_log_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        VALUES (NEW.project_id, NEW.id, 'session_created',
                jsonb_build_object('id', NEW.id, 'activity', NEW.activity_state,
                                   'isTerminated', NEW.is_terminated));
    ELSIF NEW.activity_state IS DISTINCT FROM OLD.activity_state
       OR NEW.is_terminated IS DISTINCT FROM OLD.is_terminated
       OR (OLD.first_signal_at IS NULL AND NEW.first_signal_at IS NOT NULL)
       OR NEW.preview_url IS DISTINCT FROM OLD.preview_url
       OR NEW.preview_revision IS DISTINCT FROM OLD.preview_revision THEN
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        VALUES (NEW.project_id, NEW.id, 'session_updated',
                jsonb_build_object('id', NEW.id, 'activity', NEW.activity_state,
                                   'isTerminated', NEW.is_terminated,
                                   'previewUrl', NEW.preview_url,
                                   'previewRevision', NEW.preview_revision));
    END IF;
    RETURN NULL;
END $$;
