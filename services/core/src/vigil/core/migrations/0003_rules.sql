-- Rules service: explainable alerts, one firing alert per (rule, patient), per-patient overrides.
-- Plain SQL, identical on PostgreSQL and TimescaleDB.

-- What produced the alert: the rule's content hash, the signal's inputs and the thresholds.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS rule_version text;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS inputs jsonb NOT NULL DEFAULT '{}';
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS thresholds jsonb NOT NULL DEFAULT '{}';
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS unit text;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS device_id text;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS reading_time timestamptz;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS trend_per_min double precision;
-- Escalations and the resolution, in order: [{kind, at, severity, value, inputs}].
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS history jsonb NOT NULL DEFAULT '[]';
-- Outbox: true until the AlertEvent of the row's current state is acknowledged by the broker,
-- so a crash between commit and publish republishes on restart.
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS pending_publish boolean NOT NULL DEFAULT false;
-- Whether a FIRING event of the alert ever reached the broker (a RESOLVED event is never the
-- first thing a consumer hears of an alert).
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS published_firing boolean NOT NULL DEFAULT false;

-- At most one firing alert per (rule, patient), whatever the concurrency.
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_firing ON alerts (rule, patient_id)
    WHERE state = 'firing';
CREATE INDEX IF NOT EXISTS alerts_pending_publish ON alerts (alert_id) WHERE pending_publish;

-- Personalised thresholds: params are rule fields laid over the global rule of that name
-- (a patient-only rule when no global rule has the name); enabled = false switches it off.
CREATE TABLE IF NOT EXISTS rule_overrides (
    patient_id  text NOT NULL REFERENCES patients (patient_id) ON DELETE CASCADE,
    rule        text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    params      jsonb NOT NULL DEFAULT '{}',
    note        text NOT NULL DEFAULT '',
    updated_by  text NOT NULL DEFAULT 'system',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, rule)
);

-- How far (in reading time) the rules have evaluated each patient, committed with the alerts
-- it caused: a restarted replica replays from here, so nothing between is silently skipped.
CREATE TABLE IF NOT EXISTS rule_progress (
    patient_id  text PRIMARY KEY,
    watermark   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
