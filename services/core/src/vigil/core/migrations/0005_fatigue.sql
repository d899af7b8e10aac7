-- Alarm-fatigue figures (issue 3, point 8): how often each patient's carers are interrupted
-- and how fast alerts are taken, per patient and calendar day in the patient's time zone.
-- Views only (plus an index), so dashboards and `vigil.notifier.fatigue.daily` read the same
-- numbers. Plain SQL, identical on PostgreSQL and TimescaleDB. Needs 0004 (silences,
-- notifier_acks).

-- Notifications are counted per day by when they were sent: the dashboard and the 24 h gauge
-- select by sent_at, which the (alert_id, sent_at) index cannot serve.
CREATE INDEX IF NOT EXISTS notifications_sent_at ON notifications (sent_at);

-- Each alert with its first acknowledgement: the earlier of the rules service's record
-- (alerts.acked_at) and the notifier's own (notifier_acks, kept even when no rules replica
-- recorded the ack).
CREATE OR REPLACE VIEW alert_ack_times AS
SELECT a.alert_id, a.patient_id, a.rule, a.severity, a.state, a.started_at,
       least(a.acked_at, k.acked_at) AS acked_at,
       -- NULL while unacknowledged (greatest() alone would turn NULL into 0).
       CASE WHEN coalesce(a.acked_at, k.acked_at) IS NOT NULL THEN greatest(0, extract(
         epoch FROM least(a.acked_at, k.acked_at) - a.started_at))::double precision
       END AS time_to_ack_s
  FROM alerts a
  LEFT JOIN (SELECT alert_id, min(acked_at) AS acked_at FROM notifier_acks GROUP BY alert_id) k
         USING (alert_id);

-- One row per patient and local day with any activity. A notification is one message: the
-- rows one delivery wrote for the several alerts of a group share receiver, kind and sent_at,
-- and count once. Only successful deliveries count. A snooze is a silence on exactly one
-- alert_id (the alert's patient); a silence is one with a patient_id matcher.
CREATE OR REPLACE VIEW alarm_fatigue_daily AS
WITH events AS (
    SELECT t.patient_id, t.started_at AS at, 'fired' AS what, t.severity, t.acked_at,
           t.time_to_ack_s, NULL::text AS message
      FROM alert_ack_times t
    UNION ALL
    SELECT a.patient_id, n.sent_at, 'sent', NULL, NULL, NULL, n.receiver || ' ' || n.kind
      FROM notifications n JOIN alerts a USING (alert_id)
     WHERE n.status = 'sent'
    UNION ALL
    SELECT coalesce(s.matchers ->> 'patient_id', a.patient_id), s.created_at,
           CASE WHEN s.matchers ? 'patient_id' THEN 'silence' ELSE 'snooze' END,
           NULL, NULL, NULL, NULL
      FROM silences s LEFT JOIN alerts a ON a.alert_id = s.matchers ->> 'alert_id'
     WHERE s.matchers ? 'patient_id'
        OR (s.matchers ? 'alert_id' AND (SELECT count(*) FROM jsonb_object_keys(s.matchers)) = 1)
), local AS (
    SELECT e.*, coalesce(p.timezone, 'UTC') AS tz,
           (e.at AT TIME ZONE coalesce(p.timezone, 'UTC'))::date AS day
      FROM events e LEFT JOIN patients p USING (patient_id)
     WHERE e.patient_id IS NOT NULL
)
SELECT patient_id,
       day,
       (day::timestamp AT TIME ZONE tz) AS day_start,
       count(*) FILTER (WHERE what = 'fired') AS alerts_fired,
       count(DISTINCT (message, at)) FILTER (WHERE what = 'sent') AS notifications_sent,
       count(*) FILTER (WHERE what = 'fired' AND severity = 'critical') AS critical,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY time_to_ack_s) AS median_time_to_ack_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY time_to_ack_s) AS p90_time_to_ack_s,
       count(*) FILTER (WHERE what = 'fired' AND acked_at IS NULL) AS unacked,
       count(*) FILTER (WHERE what = 'snooze') AS snoozes,
       count(*) FILTER (WHERE what = 'silence') AS silences
  FROM local
 GROUP BY patient_id, tz, day;
