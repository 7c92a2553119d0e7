-- Triggers that write change_log rows, one function per source table. Payload fields are
-- exactly those of shared/reference/cdc-contract.md, section 2. An update that changes
-- nothing a trigger watches writes no row.

CREATE FUNCTION change_log_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        kind := 'session_created';
    ELSIF NEW.activity_state IS DISTINCT FROM OLD.activity_state
       OR NEW.is_terminated IS DISTINCT FROM OLD.is_terminated THEN
        kind := 'session_updated';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO change_log (project_id, session_id, event_type, payload)
    VALUES (NEW.project_id, NEW.id, kind,
            jsonb_build_object('id', NEW.id, 'activity', NEW.activity_state,
                               'isTerminated', NEW.is_terminated));
    RETURN NULL;
END $$;
CREATE TRIGGER sessions_change_log AFTER INSERT OR UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION change_log_sessions();

CREATE FUNCTION change_log_pr() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    project text;
    state_changed boolean;
BEGIN
    SELECT s.project_id INTO project FROM sessions s WHERE s.id = NEW.session_id;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        VALUES (project, NEW.session_id, 'pr_created',
                jsonb_build_object('url', NEW.url, 'session', NEW.session_id, 'state', NEW.pr_state,
                                   'ci', NEW.ci_state, 'review', NEW.review_decision,
                                   'mergeability', NEW.mergeability));
        RETURN NULL;
    END IF;

    -- The move comes first: a client that follows the PR learns its new session before
    -- any state change made in the same statement.
    IF NEW.session_id IS DISTINCT FROM OLD.session_id THEN
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        VALUES (project, NEW.session_id, 'pr_session_changed',
                jsonb_build_object('url', NEW.url, 'fromSession', OLD.session_id,
                                   'toSession', NEW.session_id));
    END IF;

    state_changed := NEW.pr_state IS DISTINCT FROM OLD.pr_state
                  OR NEW.ci_state IS DISTINCT FROM OLD.ci_state
                  OR NEW.review_decision IS DISTINCT FROM OLD.review_decision
                  OR NEW.mergeability IS DISTINCT FROM OLD.mergeability;
    IF state_changed THEN
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        VALUES (project, NEW.session_id, 'pr_updated',
                jsonb_build_object('url', NEW.url, 'session', NEW.session_id, 'state', NEW.pr_state,
                                   'ci', NEW.ci_state, 'review', NEW.review_decision,
                                   'mergeability', NEW.mergeability));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER pr_change_log AFTER INSERT OR UPDATE ON pr
    FOR EACH ROW EXECUTE FUNCTION change_log_pr();

CREATE FUNCTION change_log_pr_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    project text;
    session text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NULL;
    END IF;
    SELECT s.project_id, s.id INTO project, session
    FROM pr p JOIN sessions s ON s.id = p.session_id
    WHERE p.url = NEW.pr_url;
    INSERT INTO change_log (project_id, session_id, event_type, payload)
    VALUES (project, session, 'pr_check_recorded',
            jsonb_build_object('pr', NEW.pr_url, 'name', NEW.name, 'commit', NEW.commit_hash,
                               'status', NEW.status));
    RETURN NULL;
END $$;
CREATE TRIGGER pr_checks_change_log AFTER INSERT OR UPDATE ON pr_checks
    FOR EACH ROW EXECUTE FUNCTION change_log_pr_checks();

CREATE FUNCTION change_log_pr_review_threads() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    project text;
    session text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.resolved IS NOT DISTINCT FROM OLD.resolved THEN
        RETURN NULL;
    END IF;
    SELECT s.project_id, s.id INTO project, session
    FROM pr p JOIN sessions s ON s.id = p.session_id
    WHERE p.url = NEW.pr_url;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        VALUES (project, session, 'pr_review_thread_added',
                jsonb_build_object('pr', NEW.pr_url, 'thread', NEW.thread_id, 'path', NEW.path,
                                   'line', NEW.line, 'resolved', NEW.resolved, 'isBot', NEW.is_bot));
    ELSE
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        VALUES (project, session, 'pr_review_thread_resolved',
                jsonb_build_object('pr', NEW.pr_url, 'thread', NEW.thread_id, 'path', NEW.path,
                                   'line', NEW.line, 'resolved', NEW.resolved));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER pr_review_threads_change_log AFTER INSERT OR UPDATE ON pr_review_threads
    FOR EACH ROW EXECUTE FUNCTION change_log_pr_review_threads();
