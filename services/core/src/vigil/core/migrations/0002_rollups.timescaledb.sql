-- TimescaleDB: readings becomes a hypertable; rollups are real-time continuous aggregates
-- (materialized_only = false), so they are exact up to the last reading, like the views on
-- plain PostgreSQL. Refresh windows reach back far enough to pick up re-sent exports.
SELECT create_hypertable('readings', 'time', chunk_time_interval => INTERVAL '1 day',
                         if_not_exists => TRUE, migrate_data => TRUE);

CREATE MATERIALIZED VIEW IF NOT EXISTS readings_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, patient_id, metric,
       min(value) AS min, max(value) AS max, avg(value) AS avg, count(*) AS count,
       last(value, time) AS last
FROM readings GROUP BY 1, 2, 3
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS readings_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, patient_id, metric,
       min(value) AS min, max(value) AS max, avg(value) AS avg, count(*) AS count,
       last(value, time) AS last
FROM readings GROUP BY 1, 2, 3
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS readings_1d
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 day', time) AS bucket, patient_id, metric,
       min(value) AS min, max(value) AS max, avg(value) AS avg, count(*) AS count,
       last(value, time) AS last
FROM readings GROUP BY 1, 2, 3
WITH NO DATA;

SELECT add_continuous_aggregate_policy('readings_1m', start_offset => INTERVAL '3 days',
    end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute',
    if_not_exists => TRUE);
SELECT add_continuous_aggregate_policy('readings_1h', start_offset => INTERVAL '7 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes',
    if_not_exists => TRUE);
SELECT add_continuous_aggregate_policy('readings_1d', start_offset => INTERVAL '30 days',
    end_offset => INTERVAL '1 day', schedule_interval => INTERVAL '1 hour',
    if_not_exists => TRUE);

-- Compress raw chunks once exports can no longer re-send them; segment by what queries filter on.
ALTER TABLE readings SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'patient_id, device_id, metric',
    timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('readings', INTERVAL '7 days', if_not_exists => TRUE);

-- Raw readings are kept 400 days, minute rollups 90 days; hourly and daily rollups stay.
SELECT add_retention_policy('readings', INTERVAL '400 days', if_not_exists => TRUE);
SELECT add_retention_policy('readings_1m', INTERVAL '90 days', if_not_exists => TRUE);
