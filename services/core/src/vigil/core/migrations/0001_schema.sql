-- Core tables, identical on PostgreSQL and TimescaleDB.
CREATE TABLE IF NOT EXISTS patients (
    patient_id  text PRIMARY KEY CHECK (patient_id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
    -- A pseudonymous label for dashboards; never a name from the health record.
    label       text NOT NULL DEFAULT '',
    care_team   text NOT NULL DEFAULT 'default',
    timezone    text NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS devices (
    device_id        text PRIMARY KEY CHECK (device_id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
    kind             text NOT NULL CHECK (kind IN ('oximeter', 'glucose_meter', 'phone', 'other')),
    patient_id       text REFERENCES patients (patient_id) ON DELETE SET NULL,
    mac              macaddr,
    firmware_version text,
    assigned_by      text NOT NULL DEFAULT 'system',
    registered_at    timestamptz NOT NULL DEFAULT now(),
    last_seen        timestamptz,
    online           boolean,
    battery_pct      real,
    rssi_dbm         integer,
    boot_id          bigint,
    last_seq         bigint
);
CREATE INDEX IF NOT EXISTS devices_patient ON devices (patient_id);

CREATE TABLE IF NOT EXISTS readings (
    time        timestamptz      NOT NULL,
    patient_id  text             NOT NULL,
    device_id   text             NOT NULL,
    metric      text             NOT NULL,
    value       double precision NOT NULL,
    unit        text             NOT NULL,
    quality     smallint         NOT NULL DEFAULT 100,
    ingested_at timestamptz      NOT NULL DEFAULT now()
);
-- The natural key: a replayed message (QoS 1 redelivery, a re-sent export) never adds a row.
CREATE UNIQUE INDEX IF NOT EXISTS readings_natural_key ON readings (device_id, metric, time);
CREATE INDEX IF NOT EXISTS readings_patient_metric_time ON readings (patient_id, metric, time DESC);

CREATE TABLE IF NOT EXISTS alerts (
    alert_id     text PRIMARY KEY,
    patient_id   text NOT NULL,
    rule         text NOT NULL,
    severity     text NOT NULL,
    state        text NOT NULL CHECK (state IN ('firing', 'resolved')),
    metric       text,
    value        double precision,
    summary      text NOT NULL DEFAULT '',
    labels       jsonb NOT NULL DEFAULT '{}',
    started_at   timestamptz NOT NULL,
    resolved_at  timestamptz,
    acked_at     timestamptz,
    acked_by     text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alerts_patient_state ON alerts (patient_id, state, started_at DESC);

CREATE TABLE IF NOT EXISTS notifications (
    id          bigserial PRIMARY KEY,
    alert_id    text NOT NULL,
    receiver    text NOT NULL,
    kind        text NOT NULL,
    attempt     integer NOT NULL DEFAULT 1,
    status      text NOT NULL CHECK (status IN ('sent', 'failed', 'dead')),
    error       text,
    sent_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS notifications_alert ON notifications (alert_id, sent_at);

CREATE TABLE IF NOT EXISTS dead_letters (
    id          bigserial PRIMARY KEY,
    time        timestamptz NOT NULL DEFAULT now(),
    stage       text NOT NULL,
    topic       text NOT NULL,
    device_id   text,
    reason      text NOT NULL,
    payload     bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_time ON dead_letters (time DESC);
