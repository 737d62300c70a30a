// The Lua scripts of the Redis job queues: one atomic script per state change.
//
// Every key of a queue starts with the queue's hash-tagged base, `{<id>}`, so
// all of them (the four state sets, the sequence, the wake-up list and the job
// hashes) live in one Cluster slot; different queues (different ids) spread
// over slots. Keys a script reads or writes are passed in KEYS, except the job
// hashes of claim / enqueue / counts-style scripts, which are found from the
// set members (same slot by construction).
//
// Layout, for base B:
//   B w   sorted set of waiting ids, score -priority * 2^40 + sequence
//   B d   sorted set of delayed ids, score due time (ms, client clock)
//   B a   sorted set of active ids, score lease end (ms, client clock)
//   B x   sorted set of dead ids, score death order
//   B q   the sequence counter
//   B s   a short list of wake-up tokens: blocked claimers BLPOP it
//   B j<id>  hash {p payload, r priority, s sequence, n attempts, o owner, e last error, st state}
// Times come from the client's clock (ARGV), so a manual clock drives them in tests.
#pragma once

#include <hotstate/detail/redis/scripts.hpp>

namespace hotstate::detail::queue {

using detail::redis::make_script;

/// KEYS: w d q s. ARGV: job-key prefix, now, then per job: id, payload, priority, delay.
/// Per job 1 (added) or 0 (its id exists). Safe to run twice: a second run adds nothing.
inline constexpr detail::redis::script redis_enqueue = make_script("enqueue", R"lua(
local out, woken = {}, 0
local now = tonumber(ARGV[2])
local seq = redis.call('INCRBY', KEYS[3], (#ARGV - 2) / 4) - (#ARGV - 2) / 4
for i = 3, #ARGV, 4 do
  local id = ARGV[i]
  local jk = ARGV[1] .. id
  seq = seq + 1
  if redis.call('EXISTS', jk) == 1 then
    out[#out + 1] = 0
  else
    local delay = tonumber(ARGV[i + 3])
    if delay > 0 then
      redis.call('HSET', jk, 'p', ARGV[i + 1], 'r', ARGV[i + 2], 's', seq, 'st', 'd')
      redis.call('ZADD', KEYS[2], string.format('%.0f', now + delay), id)
    else
      redis.call('HSET', jk, 'p', ARGV[i + 1], 'r', ARGV[i + 2], 's', seq, 'st', 'w')
      redis.call('ZADD', KEYS[1], string.format('%.0f', -tonumber(ARGV[i + 2]) * 1099511627776 + seq), id)
      woken = woken + 1
    end
    out[#out + 1] = 1
  end
end
if woken > 0 then
  local tokens = math.min(woken, 16 - redis.call('LLEN', KEYS[4]))
  if tokens > 0 then
    local ones = {}
    for i = 1, tokens do ones[i] = '1' end
    redis.call('RPUSH', KEYS[4], unpack(ones))
  end
end
return out
)lua");

/// KEYS: w d a x q. ARGV: job-key prefix, now, owner, lease ms, max attempts.
/// Moves due delayed jobs and expired leases (at most 100 each per call) back
/// to waiting (or to dead when out of attempts), then leases the first waiting
/// job: {id, payload, attempt, lease end} or nil.
inline constexpr detail::redis::script redis_claim = make_script("claim", R"lua(
local prefix, now = ARGV[1], tonumber(ARGV[2])
local function score(jk)
  local f = redis.call('HMGET', jk, 'r', 's')
  return string.format('%.0f', -tonumber(f[1]) * 1099511627776 + tonumber(f[2]))
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, 100)) do
  local jk = prefix .. id
  redis.call('ZREM', KEYS[2], id)
  redis.call('HSET', jk, 'st', 'w')
  redis.call('ZADD', KEYS[1], score(jk), id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[2], 'LIMIT', 0, 100)) do
  local jk = prefix .. id
  redis.call('ZREM', KEYS[3], id)
  if (tonumber(redis.call('HGET', jk, 'n')) or 0) >= tonumber(ARGV[5]) then
    redis.call('HSET', jk, 'o', '', 'st', 'x', 'e', 'lease expired on the last attempt (worker lost)')
    redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), id)
  else
    redis.call('HSET', jk, 'o', '', 'st', 'w')
    redis.call('ZADD', KEYS[1], score(jk), id)
  end
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if #first == 0 then return false end
local id = first[1]
local jk = prefix .. id
redis.call('ZREM', KEYS[1], id)
local n = redis.call('HINCRBY', jk, 'n', 1)
local lease_end = string.format('%.0f', now + tonumber(ARGV[4]))
redis.call('HSET', jk, 'o', ARGV[3], 'st', 'a')
redis.call('ZADD', KEYS[3], lease_end, id)
return {id, redis.call('HGET', jk, 'p'), n, lease_end}
)lua");

// The owner-checked scripts answer 0 (done), 1 (not this owner's lease) or 2 (no such job).

/// KEYS: a, job. ARGV: id, owner, new lease end.
inline constexpr detail::redis::script redis_heartbeat = make_script("heartbeat", R"lua(
local f = redis.call('HMGET', KEYS[2], 'st', 'o')
if not f[1] then return 2 end
if f[1] ~= 'a' or f[2] ~= ARGV[2] then return 1 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 0
)lua");

/// KEYS: a, job. ARGV: id, owner.
inline constexpr detail::redis::script redis_ack = make_script("ack", R"lua(
local f = redis.call('HMGET', KEYS[2], 'st', 'o')
if not f[1] then return 2 end
if f[1] ~= 'a' or f[2] ~= ARGV[2] then return 1 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 0
)lua");

/// KEYS: a, d, x, q, job. ARGV: id, owner, error, retry time ('' : dead-letter).
inline constexpr detail::redis::script redis_fail = make_script("fail", R"lua(
local f = redis.call('HMGET', KEYS[5], 'st', 'o')
if not f[1] then return 2 end
if f[1] ~= 'a' or f[2] ~= ARGV[2] then return 1 end
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[4] == '' then
  redis.call('HSET', KEYS[5], 'o', '', 'st', 'x', 'e', ARGV[3])
  redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), ARGV[1])
else
  redis.call('HSET', KEYS[5], 'o', '', 'st', 'd', 'e', ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
return 0
)lua");

/// KEYS: a, w, s, job. ARGV: id, owner.
inline constexpr detail::redis::script redis_release = make_script("release", R"lua(
local f = redis.call('HMGET', KEYS[4], 'st', 'o', 'r', 's')
if not f[1] then return 2 end
if f[1] ~= 'a' or f[2] ~= ARGV[2] then return 1 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[4], 'n', -1)
redis.call('HSET', KEYS[4], 'o', '', 'st', 'w')
redis.call('ZADD', KEYS[2], string.format('%.0f', -tonumber(f[3]) * 1099511627776 + tonumber(f[4])), ARGV[1])
redis.call('RPUSH', KEYS[3], '1')
redis.call('LTRIM', KEYS[3], -16, -1)
return 0
)lua");

/// KEYS: w d a x. Returns the four sizes, one consistent snapshot.
inline constexpr detail::redis::script redis_counts = make_script("counts", R"lua(
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3]),
        redis.call('ZCARD', KEYS[4])}
)lua");

/// KEYS: x. ARGV: job-key prefix, limit. Flat {id, payload, attempts, error, ...}.
inline constexpr detail::redis::script redis_dead = make_script("dead", R"lua(
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)) do
  local f = redis.call('HMGET', ARGV[1] .. id, 'p', 'n', 'e')
  out[#out + 1] = id
  out[#out + 1] = f[1] or ''
  out[#out + 1] = f[2] or '0'
  out[#out + 1] = f[3] or ''
end
return out
)lua");

/// KEYS: x, w, s. ARGV: job-key prefix, id ('' : every dead job). How many moved.
inline constexpr detail::redis::script redis_requeue_dead = make_script("requeue_dead", R"lua(
local ids
if ARGV[2] == '' then ids = redis.call('ZRANGE', KEYS[1], 0, -1)
elseif redis.call('ZSCORE', KEYS[1], ARGV[2]) then ids = {ARGV[2]}
else return 0 end
for _, id in ipairs(ids) do
  local jk = ARGV[1] .. id
  redis.call('ZREM', KEYS[1], id)
  local f = redis.call('HMGET', jk, 'r', 's')
  redis.call('HSET', jk, 'n', 0, 'st', 'w', 'e', '')
  redis.call('ZADD', KEYS[2], string.format('%.0f', -tonumber(f[1]) * 1099511627776 + tonumber(f[2])), id)
end
if #ids > 0 then
  redis.call('RPUSH', KEYS[3], '1')
  redis.call('LTRIM', KEYS[3], -16, -1)
end
return #ids
)lua");

/// KEYS: w d a x. ARGV: job-key prefix. Deletes every job; how many.
inline constexpr detail::redis::script redis_purge = make_script("purge", R"lua(
local n = 0
for k = 1, 4 do
  for _, id in ipairs(redis.call('ZRANGE', KEYS[k], 0, -1)) do
    redis.call('DEL', ARGV[1] .. id)
    n = n + 1
  end
  redis.call('DEL', KEYS[k])
end
return n
)lua");

}  // namespace hotstate::detail::queue
