// hotstate/detail/redis/routing/routed_backend.hpp: the store operations of the
// Redis Cluster and Redis Sentinel backends, written once over a Router.
//
// A Router (the concept in detail/redis/routing/router.hpp) decides which node's pool
// runs a command and what to do when the command meets a redirect, a failover
// or a dead node:
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
// Routers: detail::redis::routing::single_router (backends::redis, one pool, nothing
// to follow), cluster_router (backends::redis_cluster) and sentinel_router
// (backends::redis_sentinel). So every operation below runs one command value
// of detail/redis/proto/commands.hpp (the same a pipeline operation sends) on the
// connection the router picks: written once for the three backends, and once
// with the pipelines. When the router follows redirects, a command whose reply
// is an error the router can act on (MOVED, ASK, TRYAGAIN, CLUSTERDOWN,
// READONLY, LOADING, MASTERDOWN) throws `reply_redirect`
// (commands::redirected), which never leaves the router; every other error
// reply is the usual hotstate::error.
//
// Each operation says at compile time whether it is idempotent in effect, i.e.
// may be sent again once its request may have reached the server (a lost reply):
//   idempotent  GET, EXISTS, SET, UNLINK, SISMEMBER, SADD, SREM, HGET, HSET, HDEL,
//               counter reads, lock acquire (the same owner re-acquiring gets its
//               lease renewed and its own fence back), release (HDEL; a retry is
//               the lock_release_again script, which finds its own release done
//               and says true), extend, SCAN + UNLINK, PING
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
#include <hotstate/detail/redis/proto/redirect.hpp>
#include <hotstate/detail/redis/routing/router.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/detail/redis/proto/errors.hpp>
#include <hotstate/detail/redis/proto/glob.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/detail/redis/io/run.hpp>
#include <hotstate/detail/redis/proto/scripts.hpp>
#include <hotstate/error.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/detail/redis/io/pipeline_state.hpp>
#include <hotstate/detail/redis/routing/slot_map.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::redis::routing {

namespace commands = detail::redis::commands;

/// The store operations over a Router.
/// @tparam Router cluster_router or sentinel_router
/// @tparam C      a Clock; drives rate-limit windows and GCRA (Redis keeps TTLs and lock leases)
template <class Router, Clock C>
class routed_backend {
    static_assert(routing::Router<Router>, "hotstate: routed_backend runs over a Router (detail/redis/routing/router.hpp)");

public:
    /// What it is built from (the router's settings).
    using config_type = typename Router::config_type;
    /// How requests find their server.
    using router_type = Router;
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
    /// Learns the topology and PINGs every master: surfaces a wrong address or
    /// password at start-up instead of on the first real request.
    void ping() {
        router_.for_each_master("PING", [](connection& c) { (void)detail::redis::run<redirects>(c, commands::ping{}); });
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
        (void)execute(access::write, commands::set(key, value, std::int64_t{ttl.count()}));
    }

    /// GET key; the bytes go to `sink` in place.
    template <class Sink>
    bool kv_get(std::string_view key, Sink&& sink) {
        return execute_with(access::read, commands::get(key), found_into(sink));
    }

    /// UNLINK key
    bool kv_del(std::string_view key) { return execute(access::write, commands::unlink(key)); }

    /// GETDEL key; the bytes go to `sink` in place. A server older than Redis
    /// 6.2 answers "unknown command" (so nothing ran): this backend then uses
    /// the GET + DEL script, for that call and every later one.
    /// Not idempotent (redis::once): once GETDEL may have reached the server,
    /// it is never sent again (a second send would find nothing).
    template <class Sink>
    bool kv_take(std::string_view key, Sink&& sink) {
        return execute_with(access::write, commands::take(key, &getdel_unknown_), found_into(sink));
    }

    /// EXISTS key
    bool kv_exists(std::string_view key) { return execute(access::read, commands::exists(key)); }

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
            do {
                detail::redis::run_with<redirects>(c, commands::scan(cursor, pattern), [&](commands::scan_page page) {
                    cursor.assign(page.cursor);
                    const auto keys = page.keys;
                    if (keys.size() == 0) return;
                    if constexpr (Router::one_node)
                        removed += static_cast<std::uint64_t>(detail::redis::run<redirects>(c, commands::unlink_keys(keys)));
                    else
                        removed += unlink_each(c, keys, moved_away);
                });
            } while (cursor != "0");
        });
        for (const auto& key : moved_away) removed += kv_del(key) ? 1 : 0;
        return removed;
    }

    // ---- CounterBackend -----------------------------------------------------

    /// INCRBY key by; with an expiry, MULTI/INCRBY/PEXPIRE/EXEC in one write (one
    /// key, so one slot): commands::increment, the one increment-with-expiry.
    std::int64_t counter_incr(std::string_view key, std::int64_t by, std::chrono::milliseconds expiry) {
        return execute(access::write, commands::increment(key, by, std::int64_t{expiry.count()}));
    }

    /// GET key as an integer; missing reads as 0.
    std::int64_t counter_get(std::string_view key) { return execute(access::read, commands::get_integer(key)); }

    // ---- RateLimitBackend ---------------------------------------------------

    /// One GCRA step in the standalone backend's script; `now` from the Clock policy.
    rate_decision gcra_check(std::string_view key, rate_math::gcra_parameters params, std::int64_t cost) {
        const std::int64_t now_us = clock_.now().time_since_epoch().count() * 1000;
        return execute(access::write, commands::gcra(key, now_us, params.emission_us, params.capacity_us, cost));
    }

    // ---- LockBackend --------------------------------------------------------

    /// Takes the lock unless a live lease exists; returns the fencing token.
    std::optional<std::uint64_t> lock_acquire(std::string_view key, std::string_view owner,
                                              std::chrono::milliseconds lease) {
        return execute(access::write, commands::lock_acquire(key, owner, std::int64_t{lease.count()},
                                                             std::int64_t{settings().locks.fence_retention.count()}));
    }

    /// Releases the lock when `owner` holds a live lease (the fence stays).
    /// HDEL; a send after one that may have run (a lost reply, here or in an
    /// earlier release: `attempt`) is the script that still answers 1 when
    /// that one released it (the exchange's resend form).
    bool lock_release(std::string_view key, std::string_view owner, std::uint64_t fence, release_attempt attempt) {
        return execute(access::write, commands::lock_release(key, owner, fence,
                                                             attempt == release_attempt::after_unknown_outcome));
    }

    /// Renews the lease to `lease` from now when `owner` holds a live lease.
    bool lock_extend(std::string_view key, std::string_view owner, std::chrono::milliseconds lease) {
        return execute(access::write, commands::lock_extend(key, owner, std::int64_t{lease.count()},
                                                            std::int64_t{settings().locks.fence_retention.count()}));
    }

    // ---- LookupBackend ------------------------------------------------------

    /// SADD key member
    bool set_add(std::string_view key, std::string_view member) {
        return execute(access::write, commands::sadd(key, member));
    }
    /// SREM key member
    bool set_remove(std::string_view key, std::string_view member) {
        return execute(access::write, commands::srem(key, member));
    }
    /// SISMEMBER key member
    bool set_contains(std::string_view key, std::string_view member) {
        return execute(access::read, commands::sismember(key, member));
    }
    /// HSET key field value
    void map_set(std::string_view key, std::string_view field, std::string_view value) {
        (void)execute(access::write, commands::hset(key, field, value));
    }
    /// HGET key field; the bytes go to `sink` in place.
    template <class Sink>
    bool map_get(std::string_view key, std::string_view field, Sink&& sink) {
        return execute_with(access::read, commands::hget(key, field), found_into(sink));
    }
    /// HDEL key field
    bool map_remove(std::string_view key, std::string_view field) {
        return execute(access::write, commands::hdel(key, field));
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

protected:
    /// The router: topology, node pools, refresh counters. The named backends
    /// (backends::redis, redis_cluster, redis_sentinel) show what of it a user
    /// may observe; layers built on the engine reach it through router_access.
    [[nodiscard]] Router& router() noexcept { return router_; }
    [[nodiscard]] const Router& router() const noexcept { return router_; }

private:
    friend struct router_access;

    /// Whether the route follows redirects (the exchange judges them).
    static constexpr bool redirects = Router::follows_redirects;
    template <std::size_t N>
    using exchange_type = proto::exchange<N, redirects>;

    /// UNLINK of each of `keys` (one SCAN page of one master) on `c`, in one
    /// write, each reply framed and judged by an exchange of its own: a key
    /// whose slot moved since SCAN saw it is left in `moved_away`, to be
    /// deleted where it lives now. Returns how many existed.
    std::uint64_t unlink_each(connection& c, ::hotstate::redis::reply_view keys, std::vector<std::string>& moved_away) {
        std::uint64_t removed = 0;
        for (std::size_t i = 0; i < keys.size(); ++i) c.queue(commands::unlink(keys[i].text()));
        c.send_queued(commands::unlink::name);
        std::optional<error> failure;
        for (std::size_t i = 0; i < keys.size(); ++i) {  // every reply is read, so the connection stays in step
            const commands::unlink command(keys[i].text());
            auto ex = proto::exchange_of<redirects>(command, router_.retry_budget());
            ex.round_written();
            reply r = c.receive(commands::unlink::name);
            (void)ex.on_reply(r.is_error());
            const proto::verdict judged = ex.judge(r, false, commands::host_of(c.address()));
            if (judged == proto::verdict::redirected) {
                moved_away.emplace_back(command.key);
                continue;
            }
            try {
                removed += command.interpret(r, std::string_view(c.address())) ? 1 : 0;
            } catch (const error& e) {
                if (!failure) failure = e;
            }
        }
        if (failure) throw *failure;
        return removed;
    }

    /// One server: the whole pipeline in one write through the router, as one
    /// exchange (sent again after a lost reply only when every operation is idempotent).
    template <class... Ops>
    void run_together(detail::redis::pipeline_state<Ops...>& state, const Ops&... ops) {
        const std::tuple all{detail::redis::pipeline_access::command(ops)...};
        exchange_type<sizeof...(Ops)> ex({proto::traits_of(detail::redis::pipeline_access::command(ops))...},
                                         router_.retry_budget());
        router_.execute({}, access::write, ex, "pipeline", [&](connection& c) {
            state.reset();
            detail::redis::run_pipeline(c, ex, all, state, ops...);
        });
    }

    /// A cluster: one group per master, each in one write on that node's pool,
    /// an exchange of its own over the group's operations. A group that could
    /// not be sent (no connection), or whose connection broke while the
    /// exchange allows it to go again (nothing of it left, or every operation
    /// in it idempotent), is run op by op through the router (which refreshes
    /// the map, backs off and retries); otherwise the exchange's error says
    /// the outcome is unknown.
    template <class... Ops>
    void run_by_node(detail::redis::pipeline_state<Ops...>& state, const Ops&... ops) {
        constexpr std::size_t count = sizeof...(Ops);
        if (router_.generation() == 0) [[unlikely]]
            router_.refresh(0);
        const std::tuple all{detail::redis::pipeline_access::command(ops)...};
        const std::array<proto::command_traits, count> traits{
            proto::traits_of(detail::redis::pipeline_access::command(ops))...};
        const std::array<std::uint16_t, count> node_of{
            router_.master_index(key_slot(detail::redis::pipeline_access::key(ops)))...};
        std::array<bool, count> grouped{};
        for (std::size_t first = 0; first < count; ++first) {
            if (grouped[first]) continue;
            const std::uint16_t node = node_of[first];
            const auto in_group = [&](std::size_t i) { return node_of[i] == node; };
            for (std::size_t i = first; i < count; ++i) grouped[i] = grouped[i] || in_group(i);
            const auto defer_group = [&] {
                for (std::size_t i = first; i < count; ++i)
                    if (in_group(i)) state.defer(i);
            };
            if (node == slot_map::unassigned) {
                defer_group();  // the router learns where these slots live
                continue;
            }
            exchange_type<count> ex(traits, router_.retry_budget(), in_group);
            std::optional<::hotstate::redis::pool::lease> held;
            try {
                held.emplace(router_.pool_of(node).acquire());
            } catch (const error& e) {
                if (e.kind() != errc::connection && e.kind() != errc::timeout) throw;
                defer_group();
                continue;
            }
            connection& c = **held;
            c.begin_request();
            try {
                detail::redis::run_pipeline(c, ex, all, state, ops...);
            } catch (const error& e) {
                if (!c.broken()) throw;
                const proto::decision d = ex.on_failure(proto::failure_of(e), c.request_sent());
                if (!d.retry) throw proto::give_up(e, d, ex.all_idempotent(), ex.retries());
                for (std::size_t i = first; i < count; ++i)
                    if (in_group(i)) state.forget(i);
                defer_group();
            }
        }
    }

    /// Runs every deferred operation alone through the router.
    template <class State, std::size_t... I, class... Ops>
    void run_deferred(State& state, std::index_sequence<I...>, const Ops&... ops) {
        (run_alone<I>(state, ops), ...);
    }

    /// One deferred operation, as an exchange of its own through the router
    /// (which follows its redirect this time).
    template <std::size_t I, class State, class Op>
    void run_alone(State& state, const Op& op) {
        using access_to = detail::redis::pipeline_access;
        if (!state.deferred(I)) [[likely]]
            return;
        state.undefer(I);
        const std::tuple all{access_to::command(op)};
        exchange_type<1> ex({proto::traits_of(std::get<0>(all))}, router_.retry_budget());
        try {
            router_.execute(access_to::key(op), access_to::template reads_only<Op> ? access::read : access::write, ex,
                            access_to::template name<Op>, [&](connection& c) {
                                detail::redis::attempt_all(
                                    c, ex, all,
                                    [&](auto, ::hotstate::redis::reply_view r) {
                                        access_to::receive(op, std::get<0>(all), r, c.address(), state.template slot<I>());
                                    },
                                    [&](std::size_t, ::hotstate::redis::reply_view r) {
                                        detail::redis::throw_redirected(c, ex, r);
                                    });
                            });
        } catch (...) {
            state.fail(I, std::current_exception());
        }
    }

    /// Runs `command` as an exchange on the node the router picks for its
    /// key, following redirects when the router does; sent again after a lost
    /// reply only when the command is idempotent. The result owns its value.
    template <detail::redis::commands::Command Cmd>
    [[gnu::always_inline]] typename Cmd::result_type execute(access mode, const Cmd& command) {
        auto ex = proto::exchange_of<redirects>(command, router_.retry_budget());
        return router_.execute(command.key, mode, ex, Cmd::name,
                               [&](connection& c) { return detail::redis::attempt(c, ex, command); });
    }
    /// The same, handing the result to `use` while the reply lives (a view of its bytes).
    template <detail::redis::commands::Command Cmd, class Use>
    [[gnu::always_inline]] decltype(auto) execute_with(access mode, const Cmd& command, Use&& use) {
        auto ex = proto::exchange_of<redirects>(command, router_.retry_budget());
        return router_.execute(command.key, mode, ex, Cmd::name, [&](connection& c) -> decltype(auto) {
            return detail::redis::attempt(c, ex, command, use);
        });
    }
    /// A value-or-nil result given to `sink`: whether there was one.
    template <class Sink>
    static auto found_into(Sink& sink) {
        return [&sink](std::optional<std::string_view> bytes) {
            if (!bytes) return false;
            sink(*bytes);
            return true;
        };
    }

    Router router_;
    C clock_;
    /// Set once a server answered "unknown command" to GETDEL (Redis < 6.2).
    std::atomic<bool> getdel_unknown_{false};
};

/// The router behind a routed backend, for the layers built on the engine
/// (the job queue's engine runs its scripts through it); not part of a
/// backend's public face.
struct router_access {
    /// `Backend` keeps a routed_backend as its private base and befriends this.
    template <class Backend>
    [[nodiscard]] static auto& of(Backend& backend) noexcept
        requires requires { typename Backend::base::router_type; }
    {
        return static_cast<typename Backend::base&>(backend).router_;
    }
};

}  // namespace hotstate::detail::redis::routing
