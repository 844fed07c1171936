"""The Lua scripts of the Redis queue: each runs atomically on the server, in one round trip.

Keys of one lane of one destination: its stream (``s``), its delayed set of retries (``d``,
scored by due time), its retrying users (``r``: user -> due) and its lease (``l``: the one
consumer that works the lane now, so a user's messages are delivered in order by one worker at
a time; the lease's time to live is the visibility timeout).
"""

from __future__ import annotations

__all__ = ["CLAIM", "ENQUEUE", "RATE", "RELEASE", "SETTLE"]

#: The first part of CLAIM and SETTLE: settle a lane's last batch. KEYS[1] to KEYS[4]: the
#: destination's consumers, the counters, the pending count, the dead letters; ``b`` says where
#: the lane's keys start (stream, delayed set, retrying users, lease: KEYS[b + 1] to
#: KEYS[b + 4]). ARGV[1]: group, ARGV[2]: consumer; ``doc`` the settlement as JSON, ``[ids,
#: counts, retries, dead, gone, after]``: the stream ids of every job of the batch
#: (acknowledged and removed: each job leaves the stream, to the delayed set or the dead
#: letters if not delivered), ``[[counter field, count], ...]``, ``[[delayed member, due,
#: user], ...]`` (the user waits until due), ``[[field, value, ...], ...]`` of dead letters, the
#: jobs that leave the queue, and the id just after the batch's last. When no job of the lane
#: is still out after the acknowledgement, every entry before that id is settled (a lane is
#: read in order, by one consumer at a time), so the stream is trimmed to it: one XTRIM instead
#: of an XDEL of each id (XDEL was an eighth of redis-server's CPU a job; measured). Frees the
#: lane if this consumer holds it. Returns the pending count after.
_SETTLE = """
local function settle(doc, b)
  local s = cjson.decode(doc)
  local ids = s[1]
  if #ids > 0 then
    redis.call('XACK', KEYS[b + 1], ARGV[1], unpack(ids))
    if redis.call('XPENDING', KEYS[b + 1], ARGV[1])[1] == 0 then
      redis.call('XTRIM', KEYS[b + 1], 'MINID', s[6])
    else
      redis.call('XDEL', KEYS[b + 1], unpack(ids))
    end
  end
  for _, r in ipairs(s[3]) do
    redis.call('ZADD', KEYS[b + 2], r[2], r[1])
    redis.call('HSET', KEYS[b + 3], r[3], r[2])
  end
  for _, d in ipairs(s[4]) do redis.call('XADD', KEYS[4], '*', unpack(d)) end
  for _, c in ipairs(s[2]) do redis.call('HINCRBY', KEYS[2], c[1], c[2]) end
  if redis.call('GET', KEYS[b + 4]) == ARGV[2] then redis.call('DEL', KEYS[b + 4]) end
  return redis.call('DECRBY', KEYS[3], s[5])
end
"""

#: SETTLE alone (a batch that no claim of its slot follows at once). KEYS: the four of
#: ``_SETTLE``, then the lane's four. ARGV: group, consumer, the settlement.
SETTLE = _SETTLE + "return settle(ARGV[3], 4)\n"

#: KEYS: the destination's consumers (a sorted set: consumer -> last claim, Redis's ms),
#: counters, pending count, dead letters; then for each of the slot's ``n`` lanes its stream,
#: delayed set, retrying users and lease; then every lane's lease. ARGV: group, consumer,
#: limit, now, lease ms, seconds a silent consumer still counts, the slot's last batch's
#: settlement (``_SETTLE``'s JSON, or empty), the index of its lane among the slot's, ``n``,
#: and the slot's lane to look at first (turns, so every lane is served).
#:
#: Settles that batch first, so a batch costs one round trip (its settle rides on the slot's
#: next claim). Then takes the lane of the slot's that this consumer still holds (a batch
#: whose settle never reached Redis), else the first of the slot's lanes, in turn, that has
#: jobs and that no consumer holds. Returns ``{pending after the settle (or "-"), the lane's
#: index among the slot's (or -1), id, job, id, job...}``, a job as its packed ``j`` field
#: (``JOB_FIELD`` in :mod:`sdk.queue._redis_keys`). A consumer takes a lane it does not hold
#: only while it holds fewer than its fair share of the lanes (``ceil(lanes / live
#: consumers)``: a worker that came first would otherwise keep every lane, taking the next as
#: it settles one, and the workers that came later would idle). Due retries move back to the
#: stream first (in order); jobs of a user with a retry pending are parked in the delayed set
#: with that retry's due time; jobs a dead consumer held (pending past its lease) are claimed
#: again with XAUTOCLAIM.
CLAIM = (
    _SETTLE
    + """
local n = tonumber(ARGV[9])
local out = {'-', -1}
if ARGV[7] ~= '' then out[1] = settle(ARGV[7], 4 + 4 * tonumber(ARGV[8])) end
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], ms, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[6]) * 1000)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]) * 1000)
local now = tonumber(ARGV[4])
local limit = tonumber(ARGV[3])
local leases = 4 + 4 * n
local room = nil
local function may_take()
  if room == nil then
    local share = math.ceil((#KEYS - leases) / redis.call('ZCARD', KEYS[1]))
    local mine = 0
    for _, holder in ipairs(redis.call('MGET', unpack(KEYS, leases + 1, #KEYS))) do
      if holder == ARGV[2] then mine = mine + 1 end
    end
    room = share - mine
  end
  return room > 0
end
local function claim(b)
  local due = redis.call('ZRANGEBYSCORE', KEYS[b + 2], '-inf', now, 'LIMIT', 0, 1000)
  for _, member in ipairs(due) do
    redis.call('XADD', KEYS[b + 1], '*', unpack(cjson.decode(member)))
    redis.call('ZREM', KEYS[b + 2], member)
  end
  if #due > 0 then
    local users = redis.call('HGETALL', KEYS[b + 3])
    for i = 1, #users, 2 do
      if tonumber(users[i + 1]) <= now then redis.call('HDEL', KEYS[b + 3], users[i]) end
    end
  end
  redis.pcall('XGROUP', 'CREATE', KEYS[b + 1], ARGV[1], '0', 'MKSTREAM')
  local entries = redis.call('XAUTOCLAIM', KEYS[b + 1], ARGV[1], ARGV[2], 0, '0-0', 'COUNT',
    limit)[2]
  if #entries < limit then
    local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT',
      limit - #entries, 'STREAMS', KEYS[b + 1], '>')
    if read then
      for _, entry in ipairs(read[1][2]) do table.insert(entries, entry) end
    end
  end
  local retrying = redis.call('EXISTS', KEYS[b + 3]) == 1
  local k = #out
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    local job = fields[2]
    if fields[1] ~= 'j' then  -- the older layout, o u m a e b: packed here
      local f = {}
      for i = 1, #fields, 2 do f[fields[i]] = fields[i + 1] end
      job = cjson.encode({f.o or '', f.u or '', f.m or '', tonumber(f.a or '0') or 0,
        tonumber(f.e or '0') or 0}) .. '\\n' .. (f.b or '')
    end
    local wait = retrying and redis.call('HGET', KEYS[b + 3],
      cjson.decode(string.sub(job, 1, string.find(job, '\\n', 1, true) - 1))[2])
    if wait then
      redis.call('ZADD', KEYS[b + 2], wait, cjson.encode({'j', job}))
      redis.call('XACK', KEYS[b + 1], ARGV[1], entry[1])
      redis.call('XDEL', KEYS[b + 1], entry[1])
    else
      out[k + 1] = entry[1]
      out[k + 2] = job
      k = k + 2
    end
  end
  return k > 2
end
local holders = {}
for c = 0, n - 1 do
  holders[c] = redis.call('GET', KEYS[8 + 4 * c])
  if holders[c] == ARGV[2] then  -- a batch whose settle never reached Redis: its jobs again
    if claim(4 + 4 * c) then
      redis.call('PEXPIRE', KEYS[8 + 4 * c], ARGV[5])
      out[2] = c
      return out
    end
    redis.call('DEL', KEYS[8 + 4 * c])
    holders[c] = false
  end
end
for step = 0, n - 1 do
  local c = (tonumber(ARGV[10]) + step) % n
  local b = 4 + 4 * c
  if not holders[c] and (redis.call('XLEN', KEYS[b + 1]) > 0
      or #redis.call('ZRANGEBYSCORE', KEYS[b + 2], '-inf', now, 'LIMIT', 0, 1) > 0)
      and may_take() then
    if claim(b) then
      redis.call('SET', KEYS[b + 4], ARGV[2], 'PX', ARGV[5])
      out[2] = c
      return out
    end
  end
end
return out
"""
)

#: KEYS: lease. ARGV: consumer. Frees the lane if this consumer still holds it.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

#: KEYS: counters, destinations, pending, then the streams of this request. ARGV[1]: JSON
#: ``[[counter field, count], ...]`` of filtered messages; ARGV[2]: JSON list of destinations;
#: then for each job its stream's key index and its packed ``j`` field, as they are (not in a
#: JSON document: decoding one in Lua cost redis-server a quarter more a job; measured).
#: Returns the pending count after. A whole request is one command (one round trip): one
#: XADD command per job in a redis-py pipeline was half of an ingest node's CPU, and a script
#: run in a pipeline costs redis-py a ``SCRIPT EXISTS`` round trip first (both profiled).
ENQUEUE = """
for i = 3, #ARGV, 2 do redis.call('XADD', KEYS[tonumber(ARGV[i])], '*', 'j', ARGV[i + 1]) end
for _, c in ipairs(cjson.decode(ARGV[1])) do redis.call('HINCRBY', KEYS[1], c[1], c[2]) end
local dests = cjson.decode(ARGV[2])
if #dests > 0 then redis.call('SADD', KEYS[2], unpack(dests)) end
return redis.call('INCRBY', KEYS[3], (#ARGV - 2) / 2)
"""

#: KEYS: the destination's rate limit (a list of the last ``burst`` start times, in Redis's
#: microseconds, oldest first). ARGV: burst, window (microseconds), tokens. Reserves ``tokens``
#: starts at the earliest time that keeps at most ``burst`` starts within any ``window`` (the
#: same sliding window as the in-process ``RateLimiter``) and returns the microseconds until
#: then: the caller sleeps that long and starts. Redis's own clock decides, so workers on
#: machines whose clocks differ share one limit.
RATE = """
local burst = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tokens = math.min(tonumber(ARGV[3]), burst)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local start = now
local count = redis.call('LLEN', KEYS[1])
if count > 0 then
  start = math.max(start, tonumber(redis.call('LINDEX', KEYS[1], -1)))
end
local older = count + tokens - burst
if older >= 1 then
  start = math.max(start, tonumber(redis.call('LINDEX', KEYS[1], older - 1)) + window)
end
local stamp = string.format('%.0f', start)
local stamps = {}
for i = 1, tokens do stamps[i] = stamp end
redis.call('RPUSH', KEYS[1], unpack(stamps))
redis.call('LTRIM', KEYS[1], -burst, -1)
redis.call('PEXPIRE', KEYS[1], math.floor((start - now + window) / 1000) + 1000)
return start - now
"""
