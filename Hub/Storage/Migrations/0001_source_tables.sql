-- Source tables of the orchestrator, reduced to the columns the change_log triggers read
-- (see shared/reference/cdc-contract.md, section 1).
CREATE TABLE projects (
    id              text PRIMARY KEY,
    path            text NOT NULL DEFAULT '',
    repo_origin_url text,
    display_name    text,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    archived_at     timestamptz
);

CREATE TABLE sessions (
    id             text PRIMARY KEY,           -- "{project}-{num}"
    project_id     text NOT NULL REFERENCES projects (id),
    num            integer NOT NULL,
    issue_id       text,
    kind           text NOT NULL DEFAULT 'worker'
                   CHECK (kind IN ('worker', 'orchestrator')),
    activity_state text NOT NULL DEFAULT 'active'
                   CHECK (activity_state IN ('active', 'idle', 'waiting_input', 'blocked', 'exited')),
    is_terminated  boolean NOT NULL DEFAULT false,
    branch         text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, num)
);

CREATE TABLE pr (
    url             text PRIMARY KEY,
    -- A PR's project is found through its session, so a PR without one could not be routed.
    session_id      text NOT NULL REFERENCES sessions (id),
    number          integer NOT NULL,
    pr_state        text NOT NULL DEFAULT 'open'
                    CHECK (pr_state IN ('draft', 'open', 'merged', 'closed')),
    review_decision text NOT NULL DEFAULT 'none'
                    CHECK (review_decision IN ('none', 'approved', 'changes_requested', 'review_required')),
    ci_state        text NOT NULL DEFAULT 'unknown'
                    CHECK (ci_state IN ('unknown', 'pending', 'passing', 'failing')),
    mergeability    text NOT NULL DEFAULT 'unknown'
                    CHECK (mergeability IN ('unknown', 'mergeable', 'conflicting', 'blocked', 'unstable')),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pr_checks (
    pr_url      text NOT NULL REFERENCES pr (url),
    name        text NOT NULL,
    commit_hash text NOT NULL,
    status      text NOT NULL DEFAULT 'unknown'
                CHECK (status IN ('unknown', 'queued', 'in_progress', 'passed', 'failed', 'skipped', 'cancelled')),
    url         text,
    log_tail    text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pr_url, name, commit_hash)
);

CREATE TABLE pr_review_threads (
    pr_url        text NOT NULL REFERENCES pr (url),
    thread_id     text NOT NULL,
    path          text,
    line          integer,
    resolved      boolean NOT NULL DEFAULT false,
    is_bot        boolean NOT NULL DEFAULT false,
    semantic_hash text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pr_url, thread_id)
);
