-- Follow-ups: tasks with a due day and an assignee about a customer or one
-- of its records. Overdue is derived from due_on and the org's today.

CREATE TABLE follow_up (
    org_id BLOB NOT NULL,
    id BLOB NOT NULL,
    customer_id BLOB NOT NULL,
    title TEXT NOT NULL,
    notes TEXT,
    due_on TEXT NOT NULL,
    assignee_id BLOB NOT NULL,
    assignee_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    record_type TEXT,
    record_id BLOB,
    record_code TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    closed_at INTEGER,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customer (org_id, id),
    FOREIGN KEY (org_id, assignee_id) REFERENCES app_user (org_id, id)
);
-- "My follow-ups" (open ones by due day) and a customer's open ones.
CREATE INDEX follow_up_by_assignee ON follow_up (org_id, assignee_id, status, due_on);
CREATE INDEX follow_up_by_customer ON follow_up (org_id, customer_id, status, due_on);
