// hotstate/detail/redis/scripts.hpp: the Lua scripts behind the operations
// that need an atomic read-compute-write in one round trip.
//
// Each script's SHA-1 is computed at compile time, so EVALSHA sends a
// constant; a server that does not know the script (restart, SCRIPT FLUSH)
// answers NOSCRIPT and the caller falls back to EVAL, which loads it again.
// Numbers cross the Lua boundary as decimal strings formatted with %.0f:
// Lua 5.1 numbers are doubles, exact below 2^53 (microsecond timestamps are
// about 2^51), but tostring() would print them in exponent notation.
//
// The lock scripts are idempotent in effect (running one twice leaves the same
// state and answer as once), so a request whose reply was lost can be sent
// again; the increment and GCRA scripts are not, and never are.
//
// Every script touches exactly one key, KEYS[1], so it is valid on a cluster.
#pragma once

#include <array>
#include <string_view>

#include <hotstate/detail/redis/sha1.hpp>

namespace hotstate::detail::redis {

/// A Lua script with its compile-time SHA-1.
struct script {
    std::string_view name;  ///< what error messages call it
    std::string_view text;
    std::array<char, 40> sha;

    [[nodiscard]] constexpr std::string_view sha_view() const noexcept { return {sha.data(), sha.size()}; }
};

constexpr script make_script(std::string_view name, std::string_view text) noexcept {
    return {name, text, sha1_hex(text)};
}

/// INCRBY, then (re)apply the expiry: the seeds' MULTI/INCRBY/EXPIRE/EXEC in
/// one command. ARGV: by, expiry in ms. Lua holds INCRBY's answer as a double,
/// exact below 2^53 in magnitude; beyond, the script answers the stored decimal
/// string instead (a rounded double would turn INT64_MAX into INT64_MIN), so
/// the reply is an integer or that string.
inline constexpr script counter_incr_expire = make_script("increment", R"lua(
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if value >= 9007199254740992 or value <= -9007199254740992 then return redis.call('GET', KEYS[1]) end
return value
)lua");

/// One GCRA step, exactly rate_math::gcra_step. The key holds the theoretical
/// arrival time (TAT) in microseconds. ARGV: now_us, emission_us, capacity_us,
/// cost, slack_ms. Returns {allowed, retry_after_ms, remaining}. The TTL gets
/// `slack_ms` beyond the schedule because the server's clock expires the key
/// while the client's clock (now_us) runs the schedule; an expired TAT and a
/// TAT in the past mean the same, so a longer TTL never changes a decision.
inline constexpr script gcra_check = make_script("check_rate", R"lua(
local now = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local slack = tonumber(ARGV[5])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then
  local parsed = tonumber(stored)
  if parsed == nil then return redis.error_reply('ERR value is not an integer or out of range') end
  if parsed > now then tat = parsed end
end
local new_tat = tat + emission * cost
local ahead = new_tat - now
if ahead > capacity then
  return {0, math.floor((ahead - capacity + 999) / 1000), 0}
end
local ttl = math.max(1, math.floor((ahead + 999) / 1000)) + slack
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%.0f', ttl))
return {1, 0, math.floor((capacity - ahead) / emission)}
)lua");

// The lock scripts run on every acquire and release, and their cost on the
// server is what separates hotstate's lock from a bare SET NX PX, so they are
// written for the server's instruction count (callgrind on redis-server):
// every redis.call costs ~7,000 instructions, a tonumber() or a string-to-number
// coercion ~1,000 (glibc strtod), a number formatted by string.format('%.0f') or
// handed to redis.call ~3,000 (printf's floating-point path). So the scripts
// never parse TIME: its seconds (ten digits until 2286) and its microseconds,
// zero-padded to six, are concatenated into `now` in milliseconds and the
// fence candidate in microseconds; and the stored `until` and `fence` are
// compared with them as decimal strings (a longer string is the larger
// number, equal lengths compare by bytes), which is exact for the canonical
// non-negative integers these scripts write. Numbers are written with
// string.format('%d') (an integer conversion, exact for doubles below 2^53).

/// Lock acquire on the server's clock: one hash {owner, until, fence,
/// released}; refused while another owner's lease is live. The fence is
/// max(previous + 1, now in microseconds), both parts of TIME, so it strictly
/// increases per key; the hash expires lease + retention after now, so the
/// fence outlives the lease. Idempotent, so that a request whose reply was
/// lost can be sent again: the owner that holds a live lease re-acquiring it
/// gets the lease renewed and its own fence back (owner tokens are random per
/// acquire, so only a re-sent request does this). ARGV: owner, lease_ms,
/// retention_ms. Returns the fence as a decimal string, or nil when held.
inline constexpr script lock_acquire = make_script("try_lock", R"lua(
local state = redis.call('HMGET', KEYS[1], 'owner', 'until', 'fence')
local time = redis.call('TIME')
local us = string.sub('00000' .. time[2], -6)
local now = time[1] .. string.sub(us, 1, 3)
local owner, live_until, fence = state[1], state[2], state[3]
local lease = tonumber(ARGV[2])
if owner and owner ~= '' and live_until and (#live_until > #now or (#live_until == #now and live_until > now)) then
  if owner ~= ARGV[1] or not fence then return false end
  redis.call('HSET', KEYS[1], 'until', string.format('%d', now + lease))
else
  local now_us = time[1] .. us
  if fence and (#fence > #now_us or (#fence == #now_us and fence >= now_us)) then
    local bumped = (tonumber(fence) or 0) + 1
    fence = bumped > tonumber(now_us) and string.format('%.0f', bumped) or now_us
  else
    fence = now_us
  end
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'until', string.format('%d', now + lease), 'fence', fence)
end
redis.call('PEXPIRE', KEYS[1], string.format('%d', lease + ARGV[3]))
return fence
)lua");
/// Owner-checked release: clears the owner, keeps the fence, and remembers who
/// released last, so that the same request sent again (its reply was lost)
/// still says 1 instead of "your lease had run out". ARGV: owner. 1 or 0
/// (0 also for a key that is not a lock: pcall turns WRONGTYPE into "not yours").
inline constexpr script lock_release = make_script("release", R"lua(
local state = redis.pcall('HMGET', KEYS[1], 'owner', 'until', 'released')
if state.err or ARGV[1] == '' then return 0 end
if state[1] == ARGV[1] then
  local time = redis.call('TIME')
  local now = time[1] .. string.sub('00000' .. time[2], -6, -4)
  local live_until = state[2]
  if live_until and (#live_until > #now or (#live_until == #now and live_until > now)) then
    redis.call('HSET', KEYS[1], 'owner', '', 'until', '0', 'released', ARGV[1])
    return 1
  end
end
if state[3] == ARGV[1] then return 1 end
return 0
)lua");
/// Owner-checked extend: the lease runs `lease_ms` from now. ARGV: owner,
/// lease_ms, retention_ms. 1 or 0. Idempotent in effect: sent again after a
/// lost reply, it runs the lease from a slightly later now, which is what the
/// caller asked for; it says 0 only if the extended lease already ran out.
inline constexpr script lock_extend = make_script("extend", R"lua(
local state = redis.pcall('HMGET', KEYS[1], 'owner', 'until')
if state.err or not state[1] or ARGV[1] == '' or state[1] ~= ARGV[1] then return 0 end
local time = redis.call('TIME')
local now = time[1] .. string.sub('00000' .. time[2], -6, -4)
local live_until = state[2]
if not live_until or #live_until < #now or (#live_until == #now and live_until <= now) then return 0 end
local lease = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'until', string.format('%d', now + lease))
redis.call('PEXPIRE', KEYS[1], string.format('%d', lease + ARGV[3]))
return 1
)lua");

/// GET + DEL of KEYS[1] in one script: take on a server older than Redis 6.2,
/// which has no GETDEL. Returns the value, or nil.
inline constexpr script take_fallback = make_script("take", R"lua(
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
)lua");

/// Every script, for loading them on a new connection.
inline constexpr std::array<const script*, 5> all_scripts = {&counter_incr_expire, &gcra_check, &lock_acquire,
                                                             &lock_release, &lock_extend};

}  // namespace hotstate::detail::redis
