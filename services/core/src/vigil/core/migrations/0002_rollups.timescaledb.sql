-- TimescaleDB: readings becomes a hypertable; rollups are real-time continuous aggregates
-- (materialized_only = false), so they are exact up to the last reading, like the views on
-- plain PostgreSQL.
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

-- A real-time aggregate reads raw rows only above its watermark (the end of the newest
-- materialised bucket), so a reading that lands below the watermark and outside every refresh
-- window is never shown: backfilled exports, late meter syncs and rows kept by migrate_data
-- would silently vanish from the rollups. Each window therefore reaches back as far as the data
-- it summarises is kept (readings_1m: its own 90-day retention; the others: the 400 days of raw
-- readings), ending just inside it: a refresh never re-creates minute rollups that retention
-- dropped, nor erases hourly and daily rollups whose raw readings retention dropped.
-- A refresh recomputes only invalidated buckets; batches of a day, a week and a month keep a
-- long window cheap (the default, one bucket per batch, walks 128,000 minute batches).
-- buckets_per_batch needs TimescaleDB 2.19 or later.
SELECT add_continuous_aggregate_policy('readings_1m', start_offset => INTERVAL '89 days',
    end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute',
    if_not_exists => TRUE, buckets_per_batch => 1440);
SELECT add_continuous_aggregate_policy('readings_1h', start_offset => INTERVAL '399 days',
    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes',
    if_not_exists => TRUE, buckets_per_batch => 168);
SELECT add_continuous_aggregate_policy('readings_1d', start_offset => INTERVAL '399 days',
    end_offset => INTERVAL '1 day', schedule_interval => INTERVAL '1 hour',
    if_not_exists => TRUE, buckets_per_batch => 31);

-- Compress raw chunks once exports can no longer re-send them; segment by what queries filter on.
ALTER TABLE readings SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'patient_id, device_id, metric',
    timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('readings', INTERVAL '7 days', if_not_exists => TRUE);

-- Raw readings are kept 400 days, minute rollups 90 days; hourly and daily rollups stay.
SELECT add_retention_policy('readings', INTERVAL '400 days', if_not_exists => TRUE);
SELECT add_retention_policy('readings_1m', INTERVAL '90 days', if_not_exists => TRUE);
