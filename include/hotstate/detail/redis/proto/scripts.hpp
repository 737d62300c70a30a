// hotstate/detail/redis/proto/scripts.hpp: the Lua scripts behind the operations
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
// again; the GCRA script is not, and never is.
//
// Every script touches exactly one key, KEYS[1], so it is valid on a cluster.
#pragma once

#include <array>
#include <string_view>

#include <hotstate/detail/redis/proto/sha1.hpp>

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

// The lock. Its cost on the server is what separates hotstate's lock from a
// bare SET NX PX + compare-and-delete script, so the layout is chosen for the
// server's instruction count (callgrind on redis-server 7.0, per acquire +
// release: the earlier two scripts with TIME on both sides cost 111,000
// against the bare lock's 33,700). What costs: an EVALSHA before its script
// does anything (~15,700: as much as a GET and a SET sent natively), each
// redis.call (~4,000-8,000, writes the most: they are queued for propagation),
// string.format/tonumber/concatenation (~1,000-2,700 each). So:
//   - the release is not a script: HDEL key <owner token> is owner-checked by
//     itself (only the holder knows the token that names its field);
//   - the lease is the key's own expiry (PEXPIRE on the server's clock, as
//     SET PX is for the bare lock): no TIME, no stored `until` to compare;
//   - the fence is one field, bumped by one per acquisition; only a key that
//     does not exist (never locked, or its last lease over) takes TIME.
//
// Layout, one hash per lock: f = the last fence, h = the last holder's token,
// g = the fence the hash was created with, and while a lease is live a field
// named by the holder's token (its value: the fence). After a release the hash
// keeps {f, h, g} until the released lease's expiry. g tells a re-sent release
// whether its own release ran (lock_release_again): while a lease is live only
// its holder can end it before it runs out, and a lease that runs out takes
// the whole hash with it; so a hash still there, created at or before my
// acquisition (g <= my fence) and without my field, lost my field to my
// release, however often the lock changed hands since. A hash created after
// (a new one: g is above every fence of the hashes before it) says nothing:
// the answer is 0. Shapes, in HGETALL order: {f h g}, {f h g <h>}; hashes
// written before g ({f h}, {f h p}, {f h <h>}, ...) are still read.
//
// Fences strictly increase per key: while the hash exists each acquisition
// takes f + 1; a new hash starts at the server's TIME in microseconds, above
// every fence of the hash before it: that hash started at an earlier TIME and
// grew by one per acquisition, and an acquisition costs the server far more
// than a microsecond, so its fences never passed the clock. (A server clock
// stepped back by more than a lease is the limit, as for any server-clock lease.)
// Numbers cross the Lua boundary as strings: fences below 2^53 (microsecond
// timestamps are about 2^51) are exact as Lua doubles and printed with '%d'.

/// Lock acquire. ARGV: owner token, lease_ms. Returns the fence as a decimal
/// string, or nil while another owner's lease is live. Idempotent in effect:
/// the owner of a live lease acquiring again (what a re-sent request is: owner
/// tokens are random per acquisition) gets the lease renewed and its own fence.
/// A hash of another shape (not a lock) is answered with a WRONGTYPE error.
/// An empty owner gets a fence and holds nothing (as the embedded backend).
inline constexpr script lock_acquire = make_script("try_lock", R"lua(
local s = redis.call('HGETALL', KEYS[1])
local n = #s
local fence
if n ~= 0 then
  local f, h, live, shaped
  if s[1] == 'f' and s[3] == 'h' and s[5] == 'g' then
    f, h = s[2], s[4]
    if n == 6 then
      live, shaped = false, true
    elseif n == 8 then
      live, shaped = s[7] == h, s[7] == h
    end
  end
  if not shaped then
    local fields = {}
    for i = 1, n, 2 do fields[s[i]] = s[i + 1] end
    f, h = fields.f, fields.h
    live = h ~= nil and fields[h] ~= nil
    if not f or not h or n ~= 4 + (live and 2 or 0) + (fields.g and 2 or 0) + (fields.p and 2 or 0) then
      return redis.error_reply('WRONGTYPE the key holds a hash that is not a lock')
    end
  end
  if live then
    if h ~= ARGV[1] then return false end
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return f
  end
  local last = tonumber(f)
  if last then fence = string.format('%d', last + 1) end
end
if fence then
  if ARGV[1] == '' then
    redis.call('HSET', KEYS[1], 'f', fence, 'h', '')
  else
    redis.call('HSET', KEYS[1], 'f', fence, 'h', ARGV[1], ARGV[1], fence)
  end
else
  local t = redis.call('TIME')
  fence = t[1] .. string.sub('00000' .. t[2], -6)
  if ARGV[1] == '' then
    redis.call('HSET', KEYS[1], 'f', fence, 'h', '', 'g', fence)
  else
    redis.call('HSET', KEYS[1], 'f', fence, 'h', ARGV[1], 'g', fence, ARGV[1], fence)
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return fence
)lua");
/// A release sent again after its reply was lost: the first may have run, so
/// "my field is gone" alone cannot tell a release that ran from a lease that
/// ran out. 1 when this owner's field is deleted now, or when its own release
/// ran: the hash is the one this owner's lease was in (g <= its fence; see the
/// layout above), or, in a hash written before g, the lock is free and its
/// last holder was this owner. ARGV: owner token, the owner's fence. The first
/// send is HDEL (commands::lock_release).
inline constexpr script lock_release_again = make_script("release", R"lua(
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then return 1 end
if ARGV[1] == '' then return 0 end
local h, g = unpack(redis.call('HMGET', KEYS[1], 'h', 'g'))
if g then
  if tonumber(g) <= tonumber(ARGV[2]) then return 1 end
  return 0
end
if h == ARGV[1] then return 1 end
return 0
)lua");
/// Owner-checked extend: the lease runs `lease_ms` from now (the key's expiry);
/// 0 for a key that is not a lock (pcall turns WRONGTYPE into "not yours").
/// ARGV: owner token, lease_ms. 1 or 0. Idempotent in effect: sent again after
/// a lost reply, it runs the lease from a slightly later now, which is what
/// the caller asked for.
inline constexpr script lock_extend = make_script("extend", R"lua(
if ARGV[1] == '' then return 0 end
local mine = redis.pcall('HEXISTS', KEYS[1], ARGV[1])
if mine ~= 1 then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
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
inline constexpr std::array<const script*, 4> all_scripts = {&gcra_check, &lock_acquire,
                                                             &lock_release_again, &lock_extend};

/// Every script the store sends, for the checks that must see them all (the ACL command lists).
inline constexpr std::array store_scripts = {gcra_check, lock_acquire, lock_release_again, lock_extend, take_fallback};

}  // namespace hotstate::detail::redis
