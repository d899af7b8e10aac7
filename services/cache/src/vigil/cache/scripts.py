"""Lua scripts: each makes one patient's update atomic and idempotent in one round trip."""

from __future__ import annotations

# KEYS: latest, cover, devices-seen, series keys...
# ARGV: trim_before_ms, latest_ttl_ms, series_ttl_ms, max_points, then per reading
#       (series key index, metric, time_ms, member).
# Readings older than the window change nothing (the database answers for them).
# Times travel as strings (Lua numbers print with 14 digits).
# A member is "time|device|value|unit|quality": a reading re-sent with a corrected value
# replaces the member of the same (time, device) instead of adding one.
APPLY_READINGS = """
local trim = tonumber(ARGV[1])
local cap = tonumber(ARGV[4])
local touched = {}
for i = 5, #ARGV, 4 do
  local k = KEYS[tonumber(ARGV[i])]
  local metric = ARGV[i + 1]
  local ts = ARGV[i + 2]
  local t = tonumber(ts)
  local member = ARGV[i + 3]
  local head, device = string.match(member, "^(%-?%d+|([^|]*)|)")
  if t >= trim then
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', k, ts, ts)) do
      if m ~= member and string.sub(m, 1, #head) == head then redis.call('ZREM', k, m) end
    end
    redis.call('ZADD', k, ts, member)
    touched[k] = metric
    local cur = redis.call('HGET', KEYS[1], metric)
    if (not cur) or tonumber(string.match(cur, "^(%-?%d+)")) <= t then
      redis.call('HSET', KEYS[1], metric, member)
    end
    local seen = redis.call('HGET', KEYS[3], device)
    if (not seen) or tonumber(seen) < t then redis.call('HSET', KEYS[3], device, ts) end
  end
end
for k, metric in pairs(touched) do
  redis.call('ZREMRANGEBYSCORE', k, '-inf', '(' .. trim)
  local n = redis.call('ZCARD', k)
  if n > cap then
    local cut = redis.call('ZRANGE', k, n - cap - 1, n - cap - 1, 'WITHSCORES')
    redis.call('ZREMRANGEBYRANK', k, 0, n - cap - 1)
    local from = tonumber(cut[2]) + 1
    local old = tonumber(redis.call('HGET', KEYS[2], metric) or '0')
    if from > old then redis.call('HSET', KEYS[2], metric, string.format('%d', from)) end
    redis.call('PEXPIRE', KEYS[2], ARGV[3])
  end
  redis.call('PEXPIRE', k, ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
"""

# KEYS: alerts, resolved, acks. ARGV: alert_id, state, json, time_ms, ttl_ms.
APPLY_ALERT = """
if ARGV[2] == 'firing' then
  if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return 1
"""

# KEYS: meta. ARGV: now_ms. Refreshes the heartbeat only if the cache was not flushed.
HEARTBEAT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'heartbeat_ms', ARGV[1])
return 1
"""

# KEYS: latest, devices-seen, alerts. ARGV: device key prefix.
# One round trip for a "latest" answer. It reads device keys it was not given, which standalone
# Redis (and Sentinel) allow; Redis Cluster would need the device status kept per patient.
LATEST = """
local latest = redis.call('HGETALL', KEYS[1])
if #latest == 0 then return {} end
local seen = redis.call('HGETALL', KEYS[2])
local out = {latest, seen, redis.call('HLEN', KEYS[3])}
for i = 1, #seen, 2 do
  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. seen[i])
end
return out
"""
