// hotstate/detail/cluster/routed_backend.hpp: the store operations of the
// Redis Cluster and Redis Sentinel backends, written once over a Router.
//
// A Router decides which node's pool runs a command and what to do when the
// command meets a redirect, a failover or a dead node:
//
//   using config_type = ...;
//   static constexpr bool follows_redirects;  // may an error reply send the command elsewhere?
//   static constexpr bool one_node;           // do all keys live on one server?
//   const config_type& settings() const;
//   template <redis::effect E, class Body>
//   decltype(auto) execute(std::string_view key, access, redis::effect_tag<E>, std::string_view command, Body&&);
//   template <class Body>   // the same with redis::once
//   decltype(auto) execute(std::string_view key, access, std::string_view command, Body&&);
//   template <class Body> void for_each_master(std::string_view command, Body&&);  // idempotent bodies
//
// Routers: detail::redis::single_router (backends::redis, one pool, nothing
// to follow), cluster_router (backends::redis_cluster) and sentinel_router
// (backends::redis_sentinel). So every operation below, as a body on a
// `redis::connection&`, is written once for the three backends: same commands,
// same Lua scripts from detail/redis/scripts.hpp, same replies, same errors.
// When the router follows redirects, a body that gets an error reply the router
// can act on (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, READONLY, LOADING, MASTERDOWN)
// throws `reply_redirect`, which never leaves the router; every other error
// reply is the usual hotstate::error.
//
// Each operation says at compile time whether it is idempotent in effect, i.e.
// may be sent again once its request may have reached the server (a lost reply):
//   idempotent  GET, EXISTS, SET, UNLINK, SISMEMBER, SADD, SREM, HGET, HSET, HDEL,
//               counter reads, lock acquire (the same owner re-acquiring gets its
//               lease renewed and its own fence back), release (a retry that finds
//               its own release done says true), extend, SCAN + UNLINK, PING
//   once        INCRBY (with or without expiry), GCRA, raw with_connection bodies
// The answer of a re-sent erase or lookup add/remove can say "was not there"
// when the lost first attempt did the work; the state is right either way.
// A redirect or a connection that could not be opened is retried for every
// operation: the command did not run.
#pragma once

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include <hotstate/backend.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/detail/cluster/redirect.hpp>
#include <hotstate/detail/cluster/slot.hpp>
#include <hotstate/detail/redis/errors.hpp>
#include <hotstate/detail/redis/glob.hpp>
#include <hotstate/detail/redis/scripts.hpp>
#include <hotstate/error.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::cluster {

/// Whether a command only reads (may go to a replica) or writes.
enum class access : std::uint8_t { read, write };

/// Thrown by an operation body for an error reply the router handles; carries
/// the classification and the server's text (no key bytes: Redis puts none in
/// these replies).
struct reply_redirect {
    classified_error what;
    std::string message;
    std::string address;
};

/// The host part of a connection's "host:port" address (for "MOVED 1 :port").
[[nodiscard]] inline std::string_view host_of(std::string_view address) noexcept {
    const auto colon = address.rfind(':');
    std::string_view host = colon == std::string_view::npos ? address : address.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return host;
}

/// The error for a reply that is not what `command` expects, when no router
/// could do better with it (an error reply's own text, or the reply type).
[[nodiscard]] inline error unexpected_reply(const ::hotstate::redis::connection& c, std::string_view command,
                                            const ::hotstate::redis::reply& r) {
    if (r.is_error()) return detail::redis::server_error(c.address(), command, r.text());
    return error(errc::server, detail::redis::context(c.address(), command) + "unexpected reply type " + std::to_string(r.type()));
}

/// Throws the right thing for a reply that is not what `command` expects: a
/// reply_redirect for an error a router acts on, else unexpected_reply().
/// Out of line and cold: inlined, its classification crowded the operation
/// bodies' hot paths (8 more instructions per INCRBY on a cluster).
[[noreturn, gnu::cold, gnu::noinline]] inline void fail_reply(const ::hotstate::redis::connection& c,
                                                              std::string_view command,
                                                              const ::hotstate::redis::reply& r) {
    if (r.is_error()) {
        auto classified = classify_error(r.text(), host_of(c.address()));
        if (classified.kind != failure_kind::none)
            throw reply_redirect{std::move(classified), std::string(r.text()), c.address()};
    }
    throw unexpected_reply(c, command, r);
}

/// Whether this thread is running a command after ASKING: a follow-up command
/// (EVAL after NOSCRIPT) needs its own ASKING, since the flag lasts one command.
inline bool& asking_in_progress() noexcept {
    static thread_local bool asking = false;
    return asking;
}

/// EVALSHA, falling back to EVAL (which loads it) on NOSCRIPT; the reply,
/// error or not, goes to the caller (a MOVED must reach the router).
template <class... Args>
::hotstate::redis::reply run_script(::hotstate::redis::connection& c, const detail::redis::script& s,
                                    std::string_view key, const Args&... args) {
    ::hotstate::redis::reply r = c.command(s.name, "EVALSHA", s.sha_view(), "1", key, args...);
    if (r.is_error() && detail::redis::is_noscript(r.text())) [[unlikely]] {
        if (asking_in_progress()) (void)c.command("ASKING", "ASKING");
        r = c.command(s.name, "EVAL", s.text, "1", key, args...);
    }
    return r;
}

/// Loads every script on a new connection (SCRIPT LOAD, pipelined), so EVALSHA
/// finds them on a node it never used before, a promoted replica included.
inline void load_scripts(::hotstate::redis::connection& c) {
    for (const auto* s : detail::redis::all_scripts) c.append("SCRIPT LOAD", "SCRIPT", "LOAD", s->text);
    for (const auto* s : detail::redis::all_scripts) {
        ::hotstate::redis::reply r = c.read_reply("SCRIPT LOAD");
        if (r.is_error())
            throw detail::redis::server_error(c.address(), std::string("SCRIPT LOAD ") + std::string(s->name), r.text());
    }
}

/// The store operations over a Router.
/// @tparam Router cluster_router or sentinel_router
/// @tparam C      a Clock; drives rate-limit windows and GCRA (Redis keeps TTLs and lock leases)
template <class Router, Clock C>
class routed_backend {
public:
    /// What it is built from (the router's settings).
    using config_type = typename Router::config_type;
    /// The Clock policy.
    using clock_type = C;
    /// A pooled connection, as operation bodies get it.
    using connection = ::hotstate::redis::connection;
    /// An owned reply.
    using reply = ::hotstate::redis::reply;

    /// Validates `settings` (errc::configuration); opens no connection yet (see ping()).
    explicit routed_backend(config_type settings, C clock = C())
        : router_(std::move(settings)), clock_(std::move(clock)) {}

    routed_backend(const routed_backend&) = delete;
    routed_backend& operator=(const routed_backend&) = delete;

    /// Now, by the Clock policy (rate-limit windows and GCRA).
    [[nodiscard]] time_point now() const { return clock_.now(); }
    /// The Clock policy.
    [[nodiscard]] const C& clock() const noexcept { return clock_; }
    /// The configuration it was built from.
    [[nodiscard]] const config_type& settings() const noexcept { return router_.settings(); }
    /// The router: topology, node pools, refresh counters.
    [[nodiscard]] Router& router() noexcept { return router_; }

    /// Learns the topology and PINGs every master: surfaces a wrong address or
    /// password at start-up instead of on the first real request.
    void ping() {
        router_.for_each_master("PING", [](connection& c) {
            reply r = c.command("PING", "PING");
            if (r.is_error()) fail(c, "PING", r);
        });
    }

    /// Runs `body(connection&)` on the node that owns `key` (a raw command
    /// there; error replies are the body's to handle). The body is treated as
    /// one that must not run twice: never re-sent after a write.
    template <class F>
    decltype(auto) with_connection(std::string_view key, F&& body) {
        return router_.execute(key, access::write, "command", std::forward<F>(body));
    }

    // ---- KeyValueBackend ----------------------------------------------------

    /// SET key value [PX ttl]
    void kv_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
        router_.execute(key, access::write, idempotent, "SET", [&](connection& c) {
            reply r = ttl.count() > 0
                          ? c.command("SET", "SET", key, value, "PX", ::hotstate::redis::int_arg(std::int64_t{ttl.count()}))
                          : c.command("SET", "SET", key, value);
            if (r.type() != REDIS_REPLY_STATUS) [[unlikely]]
                fail(c, "SET", r);
        });
    }

    /// GET key; the bytes go to `sink` in place.
    template <class Sink>
    bool kv_get(std::string_view key, Sink&& sink) {
        return router_.execute(key, access::read, idempotent, "GET", [&](connection& c) {
            reply r = c.command("GET", "GET", key);
            if (r.type() == REDIS_REPLY_STRING) [[likely]] {
                sink(r.text());
                return true;
            }
            if (r.is_nil()) return false;
            fail(c, "GET", r);
        });
    }

    /// UNLINK key
    bool kv_del(std::string_view key) { return integer_command(access::write, "UNLINK", key) > 0; }

    /// GETDEL key; the bytes go to `sink` in place. A server older than Redis
    /// 6.2 answers "unknown command" (so nothing ran): this backend then uses
    /// the GET + DEL script, for that call and every later one.
    /// Not idempotent (redis::once): once GETDEL may have reached the server,
    /// it is never sent again (a second send would find nothing).
    template <class Sink>
    bool kv_take(std::string_view key, Sink&& sink) {
        return router_.execute(key, access::write, once, "GETDEL", [&](connection& c) {
            reply r = getdel_unknown_.load(std::memory_order_relaxed)
                          ? run_script(c, detail::redis::take_fallback, key)
                          : c.command("GETDEL", "GETDEL", key);
            if (r.type() == REDIS_REPLY_STRING) [[likely]] {
                sink(r.text());
                return true;
            }
            if (r.is_error() && detail::redis::is_unknown_command(r.text())) [[unlikely]] {
                getdel_unknown_.store(true, std::memory_order_relaxed);
                if (asking_in_progress()) (void)c.command("ASKING", "ASKING");
                r = run_script(c, detail::redis::take_fallback, key);
                if (r.type() == REDIS_REPLY_STRING) {
                    sink(r.text());
                    return true;
                }
            }
            if (r.is_nil()) return false;
            fail(c, "GETDEL", r);
        });
    }

    /// EXISTS key
    bool kv_exists(std::string_view key) { return integer_command(access::read, "EXISTS", key) > 0; }

    /// SCAN MATCH <prefix>* COUNT 1000 on every master, then the keys found are
    /// unlinked: one UNLINK per page on a single server; one UNLINK per key,
    /// pipelined, on a cluster (keys of one page may live in different slots).
    /// Returns the number unlinked.
    std::uint64_t kv_del_prefix(std::string_view prefix) {
        const std::string pattern = detail::redis::glob_prefix_pattern(prefix);
        std::uint64_t removed = 0;
        std::vector<std::string> moved_away;
        router_.for_each_master("SCAN", [&](connection& c) {
            std::string cursor = "0";
            [[maybe_unused]] std::vector<std::string_view> unlink;
            do {
                reply page = c.command("SCAN", "SCAN", cursor, "MATCH", pattern, "COUNT", "1000");
                if (page.type() != REDIS_REPLY_ARRAY || page->elements != 2 ||
                    page->element[1]->type != REDIS_REPLY_ARRAY) [[unlikely]]
                    fail(c, "SCAN", page);
                cursor.assign(page->element[0]->str, page->element[0]->len);
                const redisReply* keys = page->element[1];
                if (keys->elements == 0) continue;
                if constexpr (Router::one_node) {
                    unlink.clear();
                    unlink.emplace_back("UNLINK");
                    for (std::size_t i = 0; i < keys->elements; ++i)
                        unlink.emplace_back(keys->element[i]->str, keys->element[i]->len);
                    reply count = c.command("UNLINK", std::span<const std::string_view>(unlink));
                    if (!count.is_integer()) [[unlikely]]
                        fail(c, "UNLINK", count);
                    removed += static_cast<std::uint64_t>(count.integer());
                } else {
                    for (std::size_t i = 0; i < keys->elements; ++i)
                        c.append("UNLINK", "UNLINK", std::string_view(keys->element[i]->str, keys->element[i]->len));
                    for (std::size_t i = 0; i < keys->elements; ++i) {
                        reply count = c.read_reply("UNLINK");
                        if (count.is_integer()) {
                            removed += static_cast<std::uint64_t>(count.integer());
                        } else if (count.is_error() && classify_error(count.text()).kind != failure_kind::none) {
                            // the key's slot moved since SCAN saw it: delete it where it lives now
                            moved_away.emplace_back(keys->element[i]->str, keys->element[i]->len);
                        } else {
                            // read the rest first, so the connection stays in step
                            for (++i; i < keys->elements; ++i) (void)c.read_reply("UNLINK");
                            fail(c, "UNLINK", count);
                        }
                    }
                }
            } while (cursor != "0");
        });
        for (const auto& key : moved_away) removed += kv_del(key) ? 1 : 0;
        return removed;
    }

    // ---- CounterBackend -----------------------------------------------------

    /// INCRBY key by; with an expiry, MULTI/INCRBY/PEXPIRE/EXEC in one write (one
    /// key, so one slot). A MOVED or ASK comes back when the commands are queued;
    /// every reply is read before any is judged, so the connection stays in step.
    std::int64_t counter_incr(std::string_view key, std::int64_t by, std::chrono::milliseconds expiry) {
        return router_.execute(key, access::write, once, "INCRBY", [&](connection& c) -> std::int64_t {
            const ::hotstate::redis::int_arg amount(by);
            if (expiry.count() <= 0) {
                reply r = c.command("INCRBY", "INCRBY", key, amount);
                if (r.is_integer()) [[likely]]
                    return r.integer();
                fail(c, "INCRBY", r);
            }
            c.append("MULTI", "MULTI");
            c.append("INCRBY", "INCRBY", key, amount);
            c.append("PEXPIRE", "PEXPIRE", key, ::hotstate::redis::int_arg(std::int64_t{expiry.count()}));
            c.append("EXEC", "EXEC");
            reply queued[3] = {c.read_reply("MULTI"), c.read_reply("INCRBY"), c.read_reply("PEXPIRE")};
            reply result = c.read_reply("EXEC");
            for (const auto& step : queued)
                if (step.is_error()) [[unlikely]]
                    fail(c, "INCRBY", step);  // MOVED/ASK/TRYAGAIN reach the router from here
            if (result.type() != REDIS_REPLY_ARRAY || result->elements != 2) [[unlikely]]
                fail(c, "EXEC", result);
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
        return router_.execute(key, access::read, idempotent, "GET", [&](connection& c) -> std::int64_t {
            reply r = c.command("GET", "GET", key);
            if (r.is_nil()) return 0;
            if (r.type() != REDIS_REPLY_STRING) fail(c, "GET", r);
            std::int64_t value = 0;
            const auto text = r.text();
            const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
            if (parsed.ec != std::errc{} || parsed.ptr != text.data() + text.size() || text.empty())
                throw error(errc::wrong_type, detail::redis::context(c.address(), "GET") + "the value is not an integer");
            return value;
        });
    }

    // ---- RateLimitBackend ---------------------------------------------------

    /// One GCRA step in the standalone backend's script; `now` from the Clock policy.
    rate_decision gcra_check(std::string_view key, rate_math::gcra_parameters params, std::int64_t cost) {
        const std::int64_t now_us = clock_.now().time_since_epoch().count() * 1000;
        return router_.execute(key, access::write, once, "check_rate", [&](connection& c) {
            using ::hotstate::redis::int_arg;
            reply r = run_script(c, detail::redis::gcra_check, key, int_arg(now_us), int_arg(params.emission_us),
                                 int_arg(params.capacity_us), int_arg(cost), gcra_ttl_slack_ms);
            if (r.type() != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_INTEGER ||
                r->element[1]->type != REDIS_REPLY_INTEGER || r->element[2]->type != REDIS_REPLY_INTEGER) [[unlikely]]
                fail(c, "check_rate", r);
            return rate_decision{r->element[0]->integer != 0, std::chrono::milliseconds{r->element[1]->integer},
                                 r->element[2]->integer};
        });
    }

    // ---- LockBackend --------------------------------------------------------

    /// Takes the lock unless a live lease exists; returns the fencing token.
    std::optional<std::uint64_t> lock_acquire(std::string_view key, std::string_view owner,
                                              std::chrono::milliseconds lease) {
        return router_.execute(key, access::write, idempotent, "try_lock", [&](connection& c) -> std::optional<std::uint64_t> {
            using ::hotstate::redis::int_arg;
            reply r = run_script(c, detail::redis::lock_acquire, key, owner, int_arg(std::int64_t{lease.count()}),
                                 int_arg(std::int64_t{settings().locks.fence_retention.count()}));
            if (r.is_nil()) return std::nullopt;
            if (r.type() != REDIS_REPLY_STRING) fail(c, "try_lock", r);
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
        return router_.execute(key, access::write, idempotent, "release", [&](connection& c) {
            reply r = run_script(c, detail::redis::lock_release, key, owner);
            if (!r.is_integer()) fail(c, "release", r);
            return r.integer() == 1;
        });
    }

    /// Renews the lease to `lease` from now when `owner` holds a live lease.
    bool lock_extend(std::string_view key, std::string_view owner, std::chrono::milliseconds lease) {
        return router_.execute(key, access::write, idempotent, "extend", [&](connection& c) {
            using ::hotstate::redis::int_arg;
            reply r = run_script(c, detail::redis::lock_extend, key, owner, int_arg(std::int64_t{lease.count()}),
                                 int_arg(std::int64_t{settings().locks.fence_retention.count()}));
            if (!r.is_integer()) fail(c, "extend", r);
            return r.integer() == 1;
        });
    }

    // ---- LookupBackend ------------------------------------------------------

    /// SADD key member
    bool set_add(std::string_view key, std::string_view member) {
        return integer_command(access::write, "SADD", key, member) > 0;
    }
    /// SREM key member
    bool set_remove(std::string_view key, std::string_view member) {
        return integer_command(access::write, "SREM", key, member) > 0;
    }
    /// SISMEMBER key member
    bool set_contains(std::string_view key, std::string_view member) {
        return integer_command(access::read, "SISMEMBER", key, member) > 0;
    }
    /// HSET key field value
    void map_set(std::string_view key, std::string_view field, std::string_view value) {
        (void)integer_command(access::write, "HSET", key, field, value);
    }
    /// HGET key field; the bytes go to `sink` in place.
    template <class Sink>
    bool map_get(std::string_view key, std::string_view field, Sink&& sink) {
        return router_.execute(key, access::read, idempotent, "HGET", [&](connection& c) {
            reply r = c.command("HGET", "HGET", key, field);
            if (r.type() == REDIS_REPLY_STRING) {
                sink(r.text());
                return true;
            }
            if (r.is_nil()) return false;
            fail(c, "HGET", r);
        });
    }
    /// HDEL key field
    bool map_remove(std::string_view key, std::string_view field) {
        return integer_command(access::write, "HDEL", key, field) > 0;
    }

    // ---- PipelineBackend -----------------------------------------------------

    /// Sends `ops` (hotstate::redis::ops) in pipelines and returns their results
    /// in call order. One server (standalone, sentinel): one write, one round
    /// trip. A cluster: the operations are grouped by the master of their
    /// key's slot, each group sent in one write; replicas are not used. An
    /// operation whose reply is a redirect (MOVED, ASK, TRYAGAIN, CLUSTERDOWN,
    /// READONLY, LOADING...) never ran there: it is run again alone through the
    /// router, which follows it. Every operation runs even when another fails;
    /// the first failure is thrown at the end.
    /// Idempotence: a pipeline is sent again after a lost reply only when every
    /// operation in it (on a cluster: in that node's group) is idempotent.
    template <PipelineOp... Ops>
    std::tuple<typename Ops::result_type...> pipeline(const Ops&... ops) {
        static_assert(sizeof...(Ops) > 0, "hotstate: a pipeline needs at least one operation");
        detail::redis::pipeline_state<Ops...> state;
        if constexpr (Router::one_node)
            run_together(state, ops...);
        else
            run_by_node(state, ops...);
        run_deferred(state, std::index_sequence_for<Ops...>{}, ops...);
        return state.finish();
    }

private:
    static constexpr auto once = ::hotstate::redis::once;
    static constexpr auto idempotent = ::hotstate::redis::idempotent;
    /// The effect tag of an operation known to be idempotent or not.
    template <bool Idempotent>
    static constexpr auto effect_of =
        ::hotstate::redis::effect_tag<(Idempotent ? ::hotstate::redis::effect::idempotent
                                                  : ::hotstate::redis::effect::once)>{};
    /// Whether a reply in a pipeline is one the router follows (so the command
    /// did not run there). Only for routers that follow redirects.
    struct defer_redirects {
        bool operator()(const connection&, const reply& r) const {
            return r.is_error() && classify_error(r.text()).kind != failure_kind::none;
        }
    };
    using defer_policy =
        std::conditional_t<Router::follows_redirects, defer_redirects, detail::redis::defer_none>;

    /// One server: the whole pipeline in one write through the router.
    /// The router runs it again after a lost reply only when every operation is idempotent.
    template <class... Ops>
    void run_together(detail::redis::pipeline_state<Ops...>& state, const Ops&... ops) {
        constexpr auto effect = effect_of<detail::redis::pipeline_state<Ops...>::idempotent>;
        router_.execute({}, access::write, effect, "pipeline", [&](connection& c) {
            state.reset();
            detail::redis::run_group(c, state, detail::redis::select_all{}, defer_policy{}, ops...);
        });
    }

    /// A cluster: one group per master, each in one write on that node's pool.
    /// A group that could not be sent (no connection), or whose connection
    /// broke while every operation in it is idempotent, is run op by op
    /// through the router (which refreshes the map, backs off and retries);
    /// a broken group holding a non-idempotent operation is an error, since
    /// it may have run.
    /// The pool runs a group's body again after a lost reply only when the group is idempotent.
    template <class... Ops>
    void run_by_node(detail::redis::pipeline_state<Ops...>& state, const Ops&... ops) {
        constexpr std::size_t count = sizeof...(Ops);
        if (router_.generation() == 0) [[unlikely]]
            router_.refresh(0);
        const std::array<std::uint16_t, count> node_of{
            router_.master_index(key_slot(detail::redis::pipeline_access::key(ops)))...};
        std::array<bool, count> done{};
        for (std::size_t first = 0; first < count; ++first) {
            if (done[first]) continue;
            const std::uint16_t node = node_of[first];
            bool group_idempotent = true;
            for (std::size_t i = first; i < count; ++i) {
                if (node_of[i] != node) continue;
                done[i] = true;
                group_idempotent = group_idempotent && detail::redis::pipeline_state<Ops...>::idempotent_each[i];
            }
            const auto in_group = [&](std::size_t i) { return node_of[i] == node; };
            const auto defer_group = [&] {
                for (std::size_t i = first; i < count; ++i)
                    if (in_group(i)) state.defer(i);
            };
            if (node == slot_map::unassigned) {
                defer_group();  // the router learns where these slots live
                continue;
            }
            bool sent = false;
            const auto send_group = [&](connection& c) {
                sent = true;
                detail::redis::run_group(c, state, in_group, defer_policy{}, ops...);
            };
            try {
                if (group_idempotent)
                    router_.pool_of(node).run(idempotent, send_group);
                else
                    router_.pool_of(node).run(once, send_group);
            } catch (const error& e) {
                // retryable() of router_support.hpp: a broken or slow connection, nothing else
                const bool connection_failed = e.kind() == errc::connection || e.kind() == errc::timeout;
                if (!connection_failed || (sent && !group_idempotent)) throw;
                defer_group();
            }
        }
    }

    /// Runs every deferred operation alone through the router.
    template <class State, std::size_t... I, class... Ops>
    void run_deferred(State& state, std::index_sequence<I...>, const Ops&... ops) {
        (run_alone<I>(state, ops), ...);
    }

    /// The router runs it again after a lost reply only when Op::idempotent holds.
    template <std::size_t I, class State, class Op>
    void run_alone(State& state, const Op& op) {
        using access_to = detail::redis::pipeline_access;
        if (!state.deferred(I)) [[likely]]
            return;
        state.undefer(I);
        constexpr std::string_view command = access_to::template command<Op>;
        try {
            state.template store<I>(router_.execute(
                access_to::key(op), access_to::template reads_only<Op> ? access::read : access::write,
                effect_of<Op::idempotent>, command,
                [&](connection& c) {
                    access_to::send(op, c);
                    reply r = c.read_reply(command);
                    if constexpr (Router::follows_redirects) {
                        if (defer_redirects{}(c, r)) [[unlikely]]
                            fail_reply(c, command, r);  // a reply_redirect: the router follows it
                    }
                    return access_to::receive(op, c, r);
                }));
        } catch (...) {
            state.fail(std::current_exception());
        }
    }

    /// Extra TTL of a GCRA key beyond its schedule, in ms (see detail::redis::gcra_check);
    /// a literal argument, so no operation formats it.
    static constexpr std::string_view gcra_ttl_slack_ms = "1000";

    /// Throws for a reply that is not what `command` expects (a reply_redirect
    /// only when the router can act on it).
    [[noreturn]] static void fail(const connection& c, std::string_view command, const reply& r) {
        if constexpr (Router::follows_redirects)
            fail_reply(c, command, r);
        else
            throw unexpected_reply(c, command, r);
    }

    /// One command with an integer reply; every caller's command is idempotent in effect.
    template <std::size_t N, class... Args>
    std::int64_t integer_command(access mode, const char (&name)[N], std::string_view key, const Args&... args) {
        return router_.execute(key, mode, idempotent, std::string_view(name, N - 1), [&](connection& c) -> std::int64_t {
            reply r = c.command(std::string_view(name, N - 1), name, key, args...);
            if (r.is_integer()) [[likely]]
                return r.integer();
            fail(c, std::string_view(name, N - 1), r);
        });
    }

    Router router_;
    C clock_;
    /// Set once a server answered "unknown command" to GETDEL (Redis < 6.2).
    std::atomic<bool> getdel_unknown_{false};
};

}  // namespace hotstate::detail::cluster
