-- Plain PostgreSQL: the same names as the TimescaleDB continuous aggregates, as views that are
-- always exact. time_bucket() is defined so that dashboard queries run unchanged.
CREATE OR REPLACE FUNCTION time_bucket(bucket_width interval, ts timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT date_bin(bucket_width, ts, TIMESTAMPTZ '2000-01-03 00:00:00+00') $$;

CREATE OR REPLACE VIEW readings_1m AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket, patient_id, metric,
       min(value) AS min, max(value) AS max, avg(value) AS avg, count(*) AS count,
       (array_agg(value ORDER BY time DESC))[1] AS last
FROM readings GROUP BY 1, 2, 3;

CREATE OR REPLACE VIEW readings_1h AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, patient_id, metric,
       min(value) AS min, max(value) AS max, avg(value) AS avg, count(*) AS count,
       (array_agg(value ORDER BY time DESC))[1] AS last
FROM readings GROUP BY 1, 2, 3;

CREATE OR REPLACE VIEW readings_1d AS
SELECT time_bucket(INTERVAL '1 day', time) AS bucket, patient_id, metric,
       min(value) AS min, max(value) AS max, avg(value) AS avg, count(*) AS count,
       (array_agg(value ORDER BY time DESC))[1] AS last
FROM readings GROUP BY 1, 2, 3;
