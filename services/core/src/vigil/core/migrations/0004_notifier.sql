-- Notifier: persisted silences and snoozes, acknowledgements it took, and the timing state
-- carried by each notification so a restart neither re-pages nor loses repeat/escalation time.
-- Plain SQL, identical on PostgreSQL and TimescaleDB.

-- Silences and snoozes (a snooze is a silence on one alert_id or patient_id).
-- matchers: {"label": "value", ...}, all must equal. ends_at is exclusive; expiring a silence
-- early sets expired_at and moves ends_at back to that moment.
CREATE TABLE IF NOT EXISTS silences (
    id          text PRIMARY KEY,
    matchers    jsonb NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    created_by  text NOT NULL,
    comment     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expired_at  timestamptz,
    CHECK (ends_at > starts_at OR expired_at IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS silences_ends_at ON silences (ends_at);

-- Every acknowledgement the notifier applied (HTTP, signed link, MQTT): who, when, how. The
-- rules service keeps the first one in alerts.acked_by; this is the notifier's own record,
-- so an ack survives a notifier restart even when no rules replica owns the patient.
CREATE TABLE IF NOT EXISTS notifier_acks (
    id          bigserial PRIMARY KEY,
    alert_id    text NOT NULL,
    acked_by    text NOT NULL,
    acked_at    timestamptz NOT NULL,
    channel     text NOT NULL,
    comment     text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS notifier_acks_alert ON notifier_acks (alert_id, acked_at);

-- The aggregation group a notification belongs to, when it was due (the dispatcher's time,
-- not the delivery's), the escalation level the group had reached and when its escalation
-- clock started. NULL on rows written before this migration.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS group_key text;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS due_at timestamptz;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS level integer;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS escalation_start timestamptz;
CREATE INDEX IF NOT EXISTS notifications_group ON notifications (group_key, due_at);
