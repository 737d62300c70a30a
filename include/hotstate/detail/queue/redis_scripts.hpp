// The Lua scripts of the Redis job queues: one atomic script per state change.
//
// Every key of a queue starts with the queue's hash-tagged base, `{<id>}`, so
// all of them live in one Cluster slot; different queues (different ids)
// spread over slots. Every script gets the same eight keys, all in KEYS (no
// key is built inside a script, so every script is valid on a Cluster):
//
//   KEYS[1] B W  sorted set of waiting ids of priority != 0, score -priority * 2^40 + sequence
//   KEYS[2] B D  sorted set of delayed ids, score due time (ms, client clock)
//   KEYS[3] B A  sorted set of active ids, score lease end (ms, client clock)
//   KEYS[4] B X  sorted set of dead ids, score death order
//   KEYS[5] B Q  the sequence counter
//   KEYS[6] B S  a short list of wake-up tokens: blocked claimers BLPOP it
//   KEYS[7] B J  hash of every job's fields, each named by a letter and the id:
//                  p<id> payload (a job exists while this is here)
//                  k<id> score (-priority * 2^40 + sequence) of jobs of priority != 0 or delayed
//                  o<id> owner token (only while leased)
//                  n<id> claims so far
//                  e<id> last error
//                and two hints of the whole queue (upper case: never a job's field):
//                  T     a time (ms) no score in D or A is below; absent: unknown
//                  W     '0' when W is known to be empty; absent or else: look
//   KEYS[8] B L  list of waiting jobs of priority 0, oldest first: ids, and the
//                jobs a bulk enqueue keeps whole (NUL, id, NUL, payload) until
//                their first claim writes their fields (a deduplication id
//                never starts with NUL: hotstate::job_queue refuses one)
//
// Why this layout (measured with INFO commandstats, bench/queue): on Redis 7 a
// redis.call costs the server about half a microsecond of marshalling beyond
// the command, so the scripts are built to make few calls. A sorted-set insert
// costs several times a list push and the common job has priority 0 and no
// delay, so it costs one HSETNX (payload and deduplication in one command) and
// one RPUSH; a claim pops the list unless a job of higher priority waits in W.
// One hash for every field of every job makes an ack one HDEL. A bulk enqueue
// of priority-0 jobs is one HSET (its first job, for re-send detection) and one
// RPUSH whatever its size: its other jobs wait whole in L and enter the hash
// with their first claim, which then needs no HINCRBY or HGET (a hash field per
// job made the server's share of a bulk of 100 about five times that of 100
// pipelined LPUSHes). Numbers cross into
// redis.call as strings (the client sends the lease end; attempts count with
// HINCRBY): a Lua number argument costs the server a float formatting. The hints
// spare a claim its look at D, A and W when nothing there can be due: T is
// lowered (or set to the lowest time) by every script that adds to D or A,
// and W is cleared by every script that adds to W, so a hint is never wrong in
// the direction that would skip a due job; a claim that looks refreshes them.
// The hot worker step (ack then claim a priority-0 job) is eight calls:
// HMGET (owner, hints), ZREM, HDEL; LPOP, HINCRBY, HSET, ZADD, HGET (six when
// the job came whole from a bulk enqueue: LPOP, HSET, ZADD).
//
// This layout (upper-case letters) replaced one with a hash per field (lower
// case letters, 12 keys): jobs stored by that one are not migrated; they stay
// untouched under their old keys.
//
// Order: priority first (higher first); within a priority, enqueue order. A
// job coming back from a lease that ran out or a release goes to the front of
// its priority (it was at the front when claimed); a delayed job coming due
// (a delay or a retry) and a requeued dead job join the back of its priority,
// in due (death) order: the conformance suite checks the same on every backend.
// Times come from the client's clock (ARGV), so a manual clock drives them in tests.
// Scores and times cross as decimal strings formatted %.0f (exact below 2^53).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

#include <hotstate/detail/redis/proto/scripts.hpp>

namespace hotstate::detail::queue {

using detail::redis::make_script;

/// The texts `Parts` (NUL-terminated char arrays) joined at compile time, with
/// static storage: a script is its shared Lua functions plus its body, one
/// text with one compile-time SHA-1.
template <const auto&... Parts>
struct joined {
    static constexpr std::size_t size = ((sizeof(Parts) - 1) + ...);
    static constexpr std::array<char, size> text = [] {
        std::array<char, size> out{};
        std::size_t at = 0;
        ((std::copy_n(Parts, sizeof(Parts) - 1, out.begin() + static_cast<std::ptrdiff_t>(at)),
          at += sizeof(Parts) - 1),
         ...);
        return out;
    }();
    /// The joined text.
    static constexpr std::string_view view() noexcept { return {text.data(), size}; }
};

// Shared Lua functions, joined in front of the script bodies below.

// owned(id, owner, held): 0 when `owner` holds the lease of `id` (`held`: the
// job's o field, read by the caller with what else it needs), 1 when the job
// exists but is not leased to it, 2 when there is no such job.
inline constexpr char lua_owned[] = R"lua(
local function owned(id, owner, held)
  if held == owner then return 0 end
  if redis.call('HEXISTS', KEYS[7], 'p' .. id) == 1 then return 1 end
  return 2
end
)lua";

// wake(n): up to n wake-up tokens for blocked claimers, at most 16 held.
inline constexpr char lua_wake[] = R"lua(
local function wake(n)
  local t = math.min(n, 16 - redis.call('LLEN', KEYS[6]))
  if t > 0 then
    local ones = {}
    for i = 1, t do ones[i] = '1' end
    redis.call('RPUSH', KEYS[6], unpack(ones))
  end
end
)lua";

// The lowest time, for hint T: set by scripts that add to D without reading T
// (the next claim looks and puts the real one).
inline constexpr char lua_lowest[] = R"lua(
local lowest_time = '-9007199254740992'
)lua";

// claim(now, owner, lease_end, max_attempts, t_hint, w_hint): moves due delayed
// jobs and expired leases (at most 100 each) back to waiting (or to dead when
// out of attempts) unless hint T says none can be due, then leases the first
// waiting job: {id, payload, attempt, lease end} or false. The hints are the
// values of fields T and W of the job hash, read by the caller.
inline constexpr char lua_claim[] = R"lua(
-- the functions that put jobs back in line, made only by the scripts and the
-- claims that need them (a Lua closure costs the server as much as a short command)
local function line_helpers()
  local function score_is_zero_priority(score)
    local v = tonumber(score)
    return v >= 0 and v < 1099511627776
  end
  local function fields(letter, ids)
    local out = {}
    for i, id in ipairs(ids) do out[i] = letter .. id end
    return out
  end
  -- puts `ids` back in line: at the front of their priority (front true: a
  -- lease that ran out, a release), or at the back with a new sequence (front
  -- false: due, requeued), in the order of `order` (due times; nil: as listed),
  -- then of their sequence; true when it added to W (and cleared hint W)
  local function back_in_line(ids, front, order)
    if #ids == 0 then return false end
    local scores = redis.call('HMGET', KEYS[7], unpack(fields('k', ids)))
    local scored = false
    if front then
      for i = #ids, 1, -1 do
        if scores[i] and not score_is_zero_priority(scores[i]) then
          redis.call('ZADD', KEYS[1], scores[i], ids[i])
          scored = true
        else
          redis.call('LPUSH', KEYS[8], ids[i])
        end
      end
    else
      local entries = {}
      for i = 1, #ids do
        entries[i] = {at = order and tonumber(order[i]) or i, seq = tonumber(scores[i]) or 0, i = i, id = ids[i],
                      score = scores[i]}
      end
      table.sort(entries, function(x, y)
        if x.at ~= y.at then return x.at < y.at end
        if x.seq ~= y.seq then return x.seq < y.seq end
        return x.i < y.i
      end)
      local line = {}
      for _, e in ipairs(entries) do
        if e.score and not score_is_zero_priority(e.score) then
          local priority = -math.floor(e.seq / 1099511627776)
          local score = string.format('%.0f', -priority * 1099511627776 + redis.call('INCR', KEYS[5]))
          redis.call('HSET', KEYS[7], 'k' .. e.id, score)
          redis.call('ZADD', KEYS[1], score, e.id)
          scored = true
        else
          line[#line + 1] = e.id
        end
      end
      if #line > 0 then redis.call('RPUSH', KEYS[8], unpack(line)) end
    end
    if scored then redis.call('HDEL', KEYS[7], 'W') end
    return scored
  end
  -- the lowest score of sorted set `key`, or nil
  local function first_score(key)
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if #first == 0 then return nil end
    return tonumber(first[2])
  end
  return fields, back_in_line, first_score
end
local function claim(now_s, owner, lease_text, max_s, t_hint, w_hint)
  local now = tonumber(now_s)
  local t = tonumber(t_hint)
  local hints  -- hint fields and values to write, made only when one changes
  if not t or now >= t then
    local fields, back_in_line, first_score = line_helpers()
    local due_at = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now_s, 'WITHSCORES', 'LIMIT', 0, 100)
    if #due_at > 0 then
      local due, times = {}, {}
      for i = 1, #due_at, 2 do due[#due + 1] = due_at[i]; times[#times + 1] = due_at[i + 1] end
      redis.call('ZREM', KEYS[2], unpack(due))
      if back_in_line(due, false, times) then w_hint = nil end
    end
    local lost = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now_s, 'LIMIT', 0, 100)
    if #lost > 0 then
      local tries = redis.call('HMGET', KEYS[7], unpack(fields('n', lost)))
      redis.call('ZREM', KEYS[3], unpack(lost))
      redis.call('HDEL', KEYS[7], unpack(fields('o', lost)))
      local max, again = tonumber(max_s), {}
      for i, id in ipairs(lost) do
        if (tonumber(tries[i]) or 0) >= max then
          redis.call('HSET', KEYS[7], 'e' .. id, 'lease expired on the last attempt (worker lost)')
          redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), id)
        else
          again[#again + 1] = id
        end
      end
      if back_in_line(again, true) then w_hint = nil end
    end
    -- no score in D or A is below the lower of their first ones (2^53: both empty)
    t = math.min(first_score(KEYS[2]) or 9007199254740992, first_score(KEYS[3]) or 9007199254740992)
    hints = {'T', string.format('%.0f', t)}
  end
  local top  -- the first of W with its score, when W was looked at and is not empty
  if w_hint ~= '0' then
    top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    if #top == 0 then
      top = nil
      hints = hints or {}
      hints[#hints + 1] = 'W'; hints[#hints + 1] = '0'
    end
  end
  local id
  if top and tonumber(top[2]) < 0 then
    id = top[1]
    redis.call('ZREM', KEYS[1], id)
  else
    id = redis.call('LPOP', KEYS[8])
    if not id then
      if not top then
        if hints then redis.call('HSET', KEYS[7], unpack(hints)) end
        return false
      end
      id = top[1]
      redis.call('ZREM', KEYS[1], id)
    end
  end
  if tonumber(lease_text) < t then
    hints = hints or {}
    hints[#hints + 1] = 'T'; hints[#hints + 1] = lease_text
  end
  local n, payload
  if string.byte(id, 1) == 0 then
    -- a job a bulk enqueue left in line whole (NUL, id, NUL, payload): its
    -- fields enter the hash now, with its first claim
    local gap = string.find(id, '\0', 2, true)
    payload = string.sub(id, gap + 1)
    id = string.sub(id, 2, gap - 1)
    n = 1
    redis.call('HSET', KEYS[7], 'o' .. id, owner, 'p' .. id, payload, 'n' .. id, '1', unpack(hints or {}))
  else
    n = redis.call('HINCRBY', KEYS[7], 'n' .. id, 1)
    if hints then
      redis.call('HSET', KEYS[7], 'o' .. id, owner, unpack(hints))
    else
      redis.call('HSET', KEYS[7], 'o' .. id, owner)
    end
  end
  redis.call('ZADD', KEYS[3], lease_text, id)
  return {id, payload or redis.call('HGET', KEYS[7], 'p' .. id), n, lease_text}
end
)lua";

// ack(id, owner, held): owned(), and on 0 the job is deleted.
inline constexpr char lua_ack[] = R"lua(
local function ack(id, owner, held)
  local c = owned(id, owner, held)
  if c ~= 0 then return c end
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[7], 'p' .. id, 'k' .. id, 'o' .. id, 'n' .. id, 'e' .. id)
  return 0
end
)lua";

/// ARGV: now, then per job: id, payload, priority, delay ms. Per job 1 (added)
/// or 0 (its id exists: nothing added). A second run adds nothing while the
/// jobs exist.
inline constexpr char enqueue_body[] = R"lua(
local now = tonumber(ARGV[1])
local out, woken = {}, 0
for i = 2, #ARGV, 4 do
  local id = ARGV[i]
  if redis.call('HSETNX', KEYS[7], 'p' .. id, ARGV[i + 1]) == 0 then
    out[#out + 1] = 0
  else
    local priority, delay = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
    if priority ~= 0 or delay > 0 then
      local score = string.format('%.0f', -priority * 1099511627776 + redis.call('INCR', KEYS[5]))
      if delay > 0 then
        redis.call('HSET', KEYS[7], 'k' .. id, score, 'T', lowest_time)
        redis.call('ZADD', KEYS[2], string.format('%.0f', now + delay), id)
      else
        redis.call('HSET', KEYS[7], 'k' .. id, score, 'W', '1')
        redis.call('ZADD', KEYS[1], score, id)
        woken = woken + 1
      end
    else
      redis.call('RPUSH', KEYS[8], id)
      woken = woken + 1
    end
    out[#out + 1] = 1
  end
end
if woken > 0 then wake(woken) end
return out
)lua";
inline constexpr detail::redis::script redis_enqueue =
    make_script("enqueue", joined<lua_wake, lua_lowest, enqueue_body>::view());

/// ARGV: now, priority, delay ms, the first job's id and payload, then per
/// further job: its id and payload (priority or delay), or its line entry
/// (priority 0, no delay: NUL, id, NUL, payload, made by the client). Fresh
/// random ids. How many were added: all, or 0 when the first id exists (this
/// request ran already: a re-send after a lost reply adds nothing). A job of
/// priority 0 without delay but the first stays whole in L until a claim
/// (lua_claim): two variadic commands for the batch, no hash field per job.
inline constexpr char enqueue_bulk_body[] = R"lua(
if #ARGV < 5 or redis.call('HEXISTS', KEYS[7], 'p' .. ARGV[4]) == 1 then return 0 end
local priority, delay = tonumber(ARGV[2]), tonumber(ARGV[3])
if priority == 0 and delay <= 0 then
  local count = #ARGV - 4
  redis.call('HSET', KEYS[7], 'p' .. ARGV[4], ARGV[5])
  redis.call('RPUSH', KEYS[8], ARGV[4], unpack(ARGV, 6, math.min(4005, #ARGV)))
  for first = 4006, #ARGV, 4000 do
    redis.call('RPUSH', KEYS[8], unpack(ARGV, first, math.min(first + 3999, #ARGV)))
  end
  wake(count)
  return count
end
local count = (#ARGV - 3) / 2
local seq = redis.call('INCRBY', KEYS[5], count) - count
local due = string.format('%.0f', tonumber(ARGV[1]) + delay)
for first = 4, #ARGV, 2000 do
  local last = math.min(first + 1999, #ARGV)
  local payloads, line = {}, {}
  for i = first, last, 2 do
    local id = ARGV[i]
    seq = seq + 1
    local score = string.format('%.0f', -priority * 1099511627776 + seq)
    payloads[#payloads + 1] = 'p' .. id; payloads[#payloads + 1] = ARGV[i + 1]
    payloads[#payloads + 1] = 'k' .. id; payloads[#payloads + 1] = score
    line[#line + 1] = delay > 0 and due or score; line[#line + 1] = id
  end
  payloads[#payloads + 1] = delay > 0 and 'T' or 'W'
  payloads[#payloads + 1] = delay > 0 and lowest_time or '1'
  redis.call('HSET', KEYS[7], unpack(payloads))
  redis.call('ZADD', KEYS[delay > 0 and 2 or 1], unpack(line))
end
if delay <= 0 then wake(count) end
return count
)lua";
inline constexpr detail::redis::script redis_enqueue_bulk =
    make_script("enqueue_bulk", joined<lua_wake, lua_lowest, enqueue_bulk_body>::view());

/// ARGV: now, owner, lease end (now + lease, computed by the client: no number
/// formatting in Lua, which costs the server as much as a redis.call), max
/// attempts. {id, payload, attempt, lease end} or nil.
inline constexpr char claim_body[] = R"lua(
local hints = redis.call('HMGET', KEYS[7], 'T', 'W')
return claim(ARGV[1], ARGV[2], ARGV[3], ARGV[4], hints[1], hints[2])
)lua";
inline constexpr detail::redis::script redis_claim = make_script("claim", joined<lua_claim, claim_body>::view());

// The owner-checked scripts answer 0 (done), 1 (not this owner's lease) or 2 (no such job).

/// ARGV: id, owner, then claim's: now, new owner, lease end, max attempts.
/// Acks the job and claims the next in one step: {ack answer, claim's answer}.
/// The claim runs whatever the ack found (a worker wants its next job either
/// way). One HMGET reads the ack's owner and the claim's hints.
inline constexpr char ack_claim_body[] = R"lua(
local read = redis.call('HMGET', KEYS[7], 'o' .. ARGV[1], 'T', 'W')
local acked = ack(ARGV[1], ARGV[2], read[1])
return {acked, claim(ARGV[3], ARGV[4], ARGV[5], ARGV[6], read[2], read[3])}
)lua";
inline constexpr detail::redis::script redis_ack_claim =
    make_script("ack_claim", joined<lua_owned, lua_ack, lua_claim, ack_claim_body>::view());

/// ARGV: id, owner, new lease end.
inline constexpr char heartbeat_body[] = R"lua(
local read = redis.call('HMGET', KEYS[7], 'o' .. ARGV[1], 'T')
local c = owned(ARGV[1], ARGV[2], read[1])
if c ~= 0 then return c end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
local t = tonumber(read[2])
if t and tonumber(ARGV[3]) < t then redis.call('HSET', KEYS[7], 'T', ARGV[3]) end
return 0
)lua";
inline constexpr detail::redis::script redis_heartbeat = make_script("heartbeat", joined<lua_owned, heartbeat_body>::view());

/// ARGV: id, owner.
inline constexpr char ack_body[] = R"lua(
return ack(ARGV[1], ARGV[2], redis.call('HGET', KEYS[7], 'o' .. ARGV[1]))
)lua";
inline constexpr detail::redis::script redis_ack = make_script("ack", joined<lua_owned, lua_ack, ack_body>::view());

/// ARGV: id, owner, error, retry time ('' : dead-letter).
inline constexpr char fail_body[] = R"lua(
local id = ARGV[1]
local read = redis.call('HMGET', KEYS[7], 'o' .. id, 'T')
local c = owned(id, ARGV[2], read[1])
if c ~= 0 then return c end
redis.call('ZREM', KEYS[3], id)
redis.call('HDEL', KEYS[7], 'o' .. id)
if ARGV[4] == '' then
  redis.call('HSET', KEYS[7], 'e' .. id, ARGV[3])
  redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), id)
else
  local t = tonumber(read[2])
  if t and tonumber(ARGV[4]) < t then
    redis.call('HSET', KEYS[7], 'e' .. id, ARGV[3], 'T', ARGV[4])
  else
    redis.call('HSET', KEYS[7], 'e' .. id, ARGV[3])
  end
  redis.call('ZADD', KEYS[2], ARGV[4], id)
end
return 0
)lua";
inline constexpr detail::redis::script redis_fail = make_script("fail", joined<lua_owned, fail_body>::view());

/// ARGV: id, owner. The job goes back in line where it was; its attempt is not counted.
inline constexpr char release_body[] = R"lua(
local id = ARGV[1]
local c = owned(id, ARGV[2], redis.call('HGET', KEYS[7], 'o' .. id))
if c ~= 0 then return c end
redis.call('ZREM', KEYS[3], id)
redis.call('HDEL', KEYS[7], 'o' .. id)
redis.call('HINCRBY', KEYS[7], 'n' .. id, -1)
local _, back_in_line = line_helpers()
back_in_line({id}, true)
wake(1)
return 0
)lua";
inline constexpr detail::redis::script redis_release =
    make_script("release", joined<lua_owned, lua_wake, lua_claim, release_body>::view());

/// The four sizes {waiting, delayed, active, dead}, one consistent snapshot.
inline constexpr char counts_body[] = R"lua(
return {redis.call('ZCARD', KEYS[1]) + redis.call('LLEN', KEYS[8]), redis.call('ZCARD', KEYS[2]),
        redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[4])}
)lua";
inline constexpr detail::redis::script redis_counts = make_script("counts", joined<counts_body>::view());

/// ARGV: limit. Flat {id, payload, attempts, error, ...} in death order.
inline constexpr char dead_body[] = R"lua(
local ids = redis.call('ZRANGE', KEYS[4], 0, tonumber(ARGV[1]) - 1)
local out = {}
for i = 1, #ids, 1000 do
  local names = {}
  local last = math.min(i + 999, #ids)
  for j = i, last do
    names[#names + 1] = 'p' .. ids[j]; names[#names + 1] = 'n' .. ids[j]; names[#names + 1] = 'e' .. ids[j]
  end
  local v = redis.call('HMGET', KEYS[7], unpack(names))
  for j = i, last do
    local at = (j - i) * 3
    out[#out + 1] = ids[j]
    out[#out + 1] = v[at + 1] or ''
    out[#out + 1] = v[at + 2] or '0'
    out[#out + 1] = v[at + 3] or ''
  end
end
return out
)lua";
inline constexpr detail::redis::script redis_dead = make_script("dead", joined<dead_body>::view());

/// ARGV: id ('' : every dead job). How many moved back to waiting (attempts and error cleared).
inline constexpr char requeue_dead_body[] = R"lua(
local ids
if ARGV[1] == '' then ids = redis.call('ZRANGE', KEYS[4], 0, -1)
elseif redis.call('ZSCORE', KEYS[4], ARGV[1]) then ids = {ARGV[1]}
else return 0 end
if #ids == 0 then return 0 end
local fields, back_in_line = line_helpers()
for i = 1, #ids, 100 do
  local part = {unpack(ids, i, math.min(i + 99, #ids))}
  redis.call('ZREM', KEYS[4], unpack(part))
  local names = fields('n', part)
  for j, id in ipairs(part) do names[#part + j] = 'e' .. id end
  redis.call('HDEL', KEYS[7], unpack(names))
  back_in_line(part, false)
end
wake(#ids)
return #ids
)lua";
inline constexpr detail::redis::script redis_requeue_dead =
    make_script("requeue_dead", joined<lua_wake, lua_claim, requeue_dead_body>::view());

/// Deletes every job in every state; how many there were (each job is in
/// exactly one of W, L, D, A and X).
inline constexpr char purge_body[] = R"lua(
local n = redis.call('ZCARD', KEYS[1]) + redis.call('LLEN', KEYS[8]) + redis.call('ZCARD', KEYS[2]) +
          redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[7], KEYS[8])
return n
)lua";
inline constexpr detail::redis::script redis_purge = make_script("purge", joined<purge_body>::view());

/// Every queue script, for the checks that must see them all (the ACL command lists).
inline constexpr std::array redis_scripts = {redis_enqueue, redis_enqueue_bulk, redis_claim, redis_ack_claim,
                                             redis_heartbeat, redis_ack,  redis_fail,  redis_release,
                                             redis_counts,  redis_dead,  redis_requeue_dead, redis_purge};

}  // namespace hotstate::detail::queue
