// hotstate/backends/redis.hpp: the standalone Redis backend (hiredis).
//
// Every store operation is one round trip on a pooled connection:
//   kv_set/get/del/exists   SET [PX] / GET / UNLINK / EXISTS
//   kv_del_prefix           SCAN MATCH <escaped prefix>* + UNLINK per batch (never KEYS)
//   counter_incr            INCRBY, or MULTI/INCRBY/PEXPIRE/EXEC in one write when an expiry is given
//   counter_get             GET (missing reads as 0)
//   gcra_check              a script running rate_math::gcra_step on the key's TAT
//   lock_acquire/release/extend  scripts on one hash {owner, until, fence}, server TIME
//   set_* / map_*           SADD SREM SISMEMBER / HSET HGET HDEL
// Scripts are called by EVALSHA with compile-time SHA-1s, loaded on every new
// connection, and reloaded transparently (EVAL) when the server answers NOSCRIPT.
//
// Semantics are backends::memory's (tests/redis/redis_differential_test.cpp
// checks it operation by operation), except that:
//   - Redis expires keys by its own clock: the Clock policy drives the
//     rate-limit arithmetic only, and a GCRA schedule is kept 1 s beyond its
//     end to absorb the difference between the two clocks;
//   - lock leases and fences use the server's TIME, so every client agrees;
//   - a lock is a hash {owner, until, fence}, so a lock and a key-value lookup
//     under the same category and key share one hash (the embedded backend
//     refuses the second with wrong_type); give locks their own category;
//   - an increment with expiry on a key of another type fails with wrong_type
//     but, inside the seeds' MULTI/EXEC, still re-applies the expiry to it.
//
// With the default key layout, keys and fixed-window buckets are byte-for-byte
// the seeds' (prefix byte ++ key; bucket = prefix ++ key ++ be64(window)).
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <hotstate/backend.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/detail/redis/errors.hpp>
#include <hotstate/detail/redis/glob.hpp>
#include <hotstate/detail/redis/scripts.hpp>
#include <hotstate/error.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::backends {

/// The standalone Redis backend with clock policy `C`.
/// @tparam C a Clock; drives rate-limit windows and GCRA (Redis keeps TTLs and lock leases)
template <Clock C = system_clock>
class basic_redis {
public:
    /// The Clock policy.
    using clock_type = C;
    /// A pooled connection, as with_connection() hands it out.
    using connection = ::hotstate::redis::connection;
    /// An owned reply.
    using reply = ::hotstate::redis::reply;

    /// Validates `settings` (errc::configuration) and prepares the pool; no
    /// connection is opened until the first operation unless
    /// settings.connect_on_start asks for a PING now (see ping()).
    explicit basic_redis(::hotstate::redis::config settings = {}, C clock = C())
        : settings_(std::move(settings)), clock_(std::move(clock)),
          pool_(::hotstate::redis::resolve(settings_), ::hotstate::redis::pool_options::from(settings_),
                &load_scripts) {
        if (settings_.connect_on_start) ping();
    }

    basic_redis(const basic_redis&) = delete;
    basic_redis& operator=(const basic_redis&) = delete;

    /// Now, by the Clock policy (rate-limit windows and GCRA).
    [[nodiscard]] time_point now() const { return clock_.now(); }
    /// The Clock policy.
    [[nodiscard]] const C& clock() const noexcept { return clock_; }
    /// The configuration it was built from.
    [[nodiscard]] const ::hotstate::redis::config& settings() const noexcept { return settings_; }
    /// The connection pool (for stats and tests).
    [[nodiscard]] ::hotstate::redis::pool& connections() noexcept { return pool_; }

    /// Opens (or reuses) a connection and PINGs: surfaces a wrong address or
    /// password at start-up instead of on the first real request. (PING)
    void ping() {
        pool_.run([&](connection& c) { (void)c.checked("PING", "PING"); });
    }

    /// Runs `body(connection&)` on a pooled connection, for commands this
    /// backend does not wrap.
    template <class F>
    decltype(auto) with_connection(F&& body) {
        return pool_.run(std::forward<F>(body));
    }

    // ---- KeyValueBackend ----------------------------------------------------

    /// SET key value [PX ttl]
    void kv_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
        pool_.run([&](connection& c) {
            reply r = ttl.count() > 0 ? c.command("SET", "SET", key, value, "PX", ::hotstate::redis::int_arg(std::int64_t{ttl.count()}))
                                      : c.command("SET", "SET", key, value);
            if (r.type() != REDIS_REPLY_STATUS) [[unlikely]]
                throw unexpected(c, "SET", r);
        });
    }

    /// GET key; the reply's bytes go to `sink` in place, without a copy.
    template <class Sink>
    bool kv_get(std::string_view key, Sink&& sink) {
        return pool_.run([&](connection& c) {
            reply r = c.command("GET", "GET", key);
            if (r.type() == REDIS_REPLY_STRING) [[likely]] {
                sink(r.text());
                return true;
            }
            if (r.is_nil()) return false;
            throw unexpected(c, "GET", r);
        });
    }

    /// UNLINK key
    bool kv_del(std::string_view key) { return integer_command("UNLINK", key) > 0; }

    /// EXISTS key
    bool kv_exists(std::string_view key) { return integer_command("EXISTS", key) > 0; }

    /// SCAN MATCH <prefix>* COUNT 1000, UNLINK per batch; returns the number unlinked.
    std::uint64_t kv_del_prefix(std::string_view prefix) {
        const std::string pattern = detail::redis::glob_prefix_pattern(prefix);
        return pool_.run([&](connection& c) {
            std::uint64_t removed = 0;
            std::string cursor = "0";
            std::vector<std::string_view> unlink;
            do {
                reply page = c.checked("SCAN", "SCAN", cursor, "MATCH", pattern, "COUNT", "1000");
                if (page.type() != REDIS_REPLY_ARRAY || page->elements != 2 ||
                    page->element[1]->type != REDIS_REPLY_ARRAY) [[unlikely]]
                    throw unexpected(c, "SCAN", page);
                cursor.assign(page->element[0]->str, page->element[0]->len);
                const redisReply* keys = page->element[1];
                if (keys->elements == 0) continue;
                unlink.clear();
                unlink.emplace_back("UNLINK");
                for (std::size_t i = 0; i < keys->elements; ++i)
                    unlink.emplace_back(keys->element[i]->str, keys->element[i]->len);
                reply count = c.command("UNLINK", std::span<const std::string_view>(unlink));
                if (!count.is_integer()) [[unlikely]]
                    throw unexpected(c, "UNLINK", count);
                removed += static_cast<std::uint64_t>(count.integer());
            } while (cursor != "0");
            return removed;
        });
    }

    // ---- CounterBackend -----------------------------------------------------

    /// INCRBY key by; with an expiry, MULTI / INCRBY / PEXPIRE / EXEC written
    /// at once (one round trip, atomic: the seeds' transaction). A script would
    /// do the same in one command, but Redis runs two plain commands in a
    /// transaction faster than two redis.call()s in Lua, and the fixed-window
    /// rate check is this operation.
    std::int64_t counter_incr(std::string_view key, std::int64_t by, std::chrono::milliseconds expiry) {
        return pool_.run([&](connection& c) -> std::int64_t {
            const ::hotstate::redis::int_arg amount(by);
            if (expiry.count() <= 0) {
                reply r = c.command("INCRBY", "INCRBY", key, amount);
                if (r.is_integer()) [[likely]]
                    return r.integer();
                throw unexpected(c, "INCRBY", r);
            }
            c.append("MULTI", "MULTI");
            c.append("INCRBY", "INCRBY", key, amount);
            c.append("PEXPIRE", "PEXPIRE", key, ::hotstate::redis::int_arg(std::int64_t{expiry.count()}));
            c.append("EXEC", "EXEC");
            // read every reply before judging any, so the connection stays in step
            reply queued[3] = {c.read_reply("MULTI"), c.read_reply("INCRBY"), c.read_reply("PEXPIRE")};
            reply result = c.read_reply("EXEC");
            for (const auto& step : queued)
                if (step.is_error()) [[unlikely]]
                    throw unexpected(c, "INCRBY", step);
            if (result.type() != REDIS_REPLY_ARRAY || result->elements != 2) [[unlikely]]
                throw unexpected(c, "EXEC", result);
            const redisReply* incremented = result->element[0];
            if (incremented->type != REDIS_REPLY_INTEGER) [[unlikely]] {
                if (incremented->type == REDIS_REPLY_ERROR)
                    throw detail::redis::server_error(c.address(), "INCRBY", {incremented->str, incremented->len});
                throw error(errc::server, detail::redis::context(c.address(), "INCRBY") + "unexpected reply type");
            }
            return incremented->integer;
        });
    }

    /// GET key as an integer; missing reads as 0.
    std::int64_t counter_get(std::string_view key) {
        return pool_.run([&](connection& c) -> std::int64_t {
            reply r = c.command("GET", "GET", key);
            if (r.is_nil()) return 0;
            if (r.type() != REDIS_REPLY_STRING) throw unexpected(c, "GET", r);
            return parse_integer(c, "GET", r.text());
        });
    }

    // ---- RateLimitBackend ---------------------------------------------------

    /// One GCRA step in a script; `now` comes from the Clock policy.
    rate_decision gcra_check(std::string_view key, rate_math::gcra_parameters params, std::int64_t cost) {
        const std::int64_t now_us = clock_.now().time_since_epoch().count() * 1000;
        return pool_.run([&](connection& c) {
            using ::hotstate::redis::int_arg;
            reply r = eval(c, detail::redis::gcra_check, key, int_arg(now_us), int_arg(params.emission_us),
                           int_arg(params.capacity_us), int_arg(cost), int_arg(std::int64_t{gcra_ttl_slack_ms}));
            if (r.type() != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_INTEGER ||
                r->element[1]->type != REDIS_REPLY_INTEGER || r->element[2]->type != REDIS_REPLY_INTEGER) [[unlikely]]
                throw unexpected(c, "check_rate", r);
            return rate_decision{r->element[0]->integer != 0, std::chrono::milliseconds{r->element[1]->integer},
                                 r->element[2]->integer};
        });
    }

    // ---- LockBackend --------------------------------------------------------

    /// Takes the lock unless a live lease exists; returns the fencing token.
    std::optional<std::uint64_t> lock_acquire(std::string_view key, std::string_view owner,
                                              std::chrono::milliseconds lease) {
        return pool_.run([&](connection& c) -> std::optional<std::uint64_t> {
            using ::hotstate::redis::int_arg;
            reply r = eval(c, detail::redis::lock_acquire, key, owner, int_arg(std::int64_t{lease.count()}),
                           int_arg(std::int64_t{settings_.fence_retention.count()}));
            if (r.is_nil()) return std::nullopt;
            if (r.type() != REDIS_REPLY_STRING) throw unexpected(c, "try_lock", r);
            std::uint64_t fence = 0;
            const auto text = r.text();
            const auto parsed = std::from_chars(text.data(), text.data() + text.size(), fence);
            if (parsed.ec != std::errc{} || parsed.ptr != text.data() + text.size())
                throw error(errc::decode, detail::redis::context(c.address(), "try_lock") + "malformed fencing token");
            return fence;
        });
    }

    /// Releases the lock when `owner` holds a live lease (the fence stays).
    bool lock_release(std::string_view key, std::string_view owner) {
        return pool_.run([&](connection& c) {
            reply r = eval(c, detail::redis::lock_release, key, owner);
            if (!r.is_integer()) throw unexpected(c, "release", r);
            return r.integer() == 1;
        });
    }

    /// Renews the lease to `lease` from now when `owner` holds a live lease.
    bool lock_extend(std::string_view key, std::string_view owner, std::chrono::milliseconds lease) {
        return pool_.run([&](connection& c) {
            using ::hotstate::redis::int_arg;
            reply r = eval(c, detail::redis::lock_extend, key, owner, int_arg(std::int64_t{lease.count()}),
                           int_arg(std::int64_t{settings_.fence_retention.count()}));
            if (!r.is_integer()) throw unexpected(c, "extend", r);
            return r.integer() == 1;
        });
    }

    // ---- LookupBackend ------------------------------------------------------

    /// SADD key member
    bool set_add(std::string_view key, std::string_view member) { return integer_command("SADD", key, member) > 0; }
    /// SREM key member
    bool set_remove(std::string_view key, std::string_view member) { return integer_command("SREM", key, member) > 0; }
    /// SISMEMBER key member
    bool set_contains(std::string_view key, std::string_view member) {
        return integer_command("SISMEMBER", key, member) > 0;
    }
    /// HSET key field value
    void map_set(std::string_view key, std::string_view field, std::string_view value) {
        (void)integer_command("HSET", key, field, value);
    }
    /// HGET key field; the bytes go to `sink` in place.
    template <class Sink>
    bool map_get(std::string_view key, std::string_view field, Sink&& sink) {
        return pool_.run([&](connection& c) {
            reply r = c.command("HGET", "HGET", key, field);
            if (r.type() == REDIS_REPLY_STRING) {
                sink(r.text());
                return true;
            }
            if (r.is_nil()) return false;
            throw unexpected(c, "HGET", r);
        });
    }
    /// HDEL key field
    bool map_remove(std::string_view key, std::string_view field) { return integer_command("HDEL", key, field) > 0; }

    // ---- batching -----------------------------------------------------------

    /// Sends every operation in one pipeline (one write, one round trip) and
    /// returns their typed results in order:
    ///   auto [value, count, gone] = backend.pipeline(redis::ops::get{k1}, redis::ops::incr{k2, 1},
    ///                                                redis::ops::del{k3});
    /// Keys are encoded keys (hotstate::encode_key<Category>(key)).
    template <::hotstate::redis::PipelineOp... Ops>
    auto pipeline(const Ops&... ops) {
        return pool_.run([&](connection& c) { return ::hotstate::redis::run_pipeline(c, settings_, ops...); });
    }

private:
    /// Extra TTL of a GCRA key beyond its schedule (see detail::redis::gcra_check).
    static constexpr std::int64_t gcra_ttl_slack_ms = 1000;

    static void load_scripts(connection& c) {
        for (const auto* s : detail::redis::all_scripts) c.append("SCRIPT LOAD", "SCRIPT", "LOAD", s->text);
        for (const auto* s : detail::redis::all_scripts) {
            reply r = c.read_reply("SCRIPT LOAD");
            if (r.is_error()) throw detail::redis::server_error(c.address(), std::string("SCRIPT LOAD ") + std::string(s->name), r.text());
        }
    }

    template <class... Args>
    static reply eval(connection& c, const detail::redis::script& s, std::string_view key, const Args&... args) {
        return ::hotstate::redis::eval_script(c, s, key, args...);
    }

    template <std::size_t N, class... Args>
    std::int64_t integer_command(const char (&name)[N], std::string_view key, const Args&... args) {
        return pool_.run([&](connection& c) -> std::int64_t {
            reply r = c.command(std::string_view(name, N - 1), name, key, args...);
            if (r.is_integer()) [[likely]]
                return r.integer();
            throw unexpected(c, std::string_view(name, N - 1), r);
        });
    }

    static std::int64_t parse_integer(const connection& c, std::string_view command, std::string_view text) {
        std::int64_t value = 0;
        const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
        if (parsed.ec != std::errc{} || parsed.ptr != text.data() + text.size() || text.empty())
            throw error(errc::wrong_type, detail::redis::context(c.address(), command) + "the value is not an integer");
        return value;
    }

    static error unexpected(const connection& c, std::string_view command, const reply& r) {
        if (r.is_error()) return detail::redis::server_error(c.address(), command, r.text());
        return error(errc::server, detail::redis::context(c.address(), command) + "unexpected reply type " +
                                       std::to_string(r.type()));
    }

    ::hotstate::redis::config settings_;
    C clock_;
    ::hotstate::redis::pool pool_;
};

/// The standalone Redis backend on the system clock.
using redis = basic_redis<system_clock>;

static_assert(KeyValueBackend<redis> && CounterBackend<redis> && RateLimitBackend<redis> && LockBackend<redis> &&
              LookupBackend<redis>);

}  // namespace hotstate::backends
