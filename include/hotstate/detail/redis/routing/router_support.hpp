// hotstate/detail/redis/routing/router_support.hpp: what the cluster and sentinel
// routers share: a node (address + pool), the per-node connection settings,
// the wrapping of a failed attempt, and the retry/backoff loop.
//
// Both routers run an operation body, and when it fails with a redirect or a
// connection error they look again (CLUSTER SLOTS, or the sentinels), back off
// and retry within max_retries; then the error names the backend, where the
// command went, the command and the last failure. retry_loop is that decision,
// written once; what "look again" means stays each router's own. A failure
// whose outcome is unknown (a redis::once request that may have run) is never
// retried: retryable() says no, and the router passes it on with its context.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/detail/redis/proto/redirect.hpp>
#include <hotstate/detail/redis/io/run.hpp>
#include <hotstate/detail/redis/routing/router.hpp>
#include <hotstate/detail/redis/routing/slot_map.hpp>
#include <hotstate/detail/redis/proto/url_text.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::redis::routing {

/// Thrown for an error reply the router handles (see commands::redirected).
using reply_redirect = detail::redis::commands::redirected;

/// One cluster node as the client sees it: its address and its pool.
struct cluster_node {
    /// `tls` (when loaded) is the router's one TLS context, shared by every node's pool.
    cluster_node(node_address at, const ::hotstate::redis::endpoint& where, const ::hotstate::redis::pool_options& options,
                 ::hotstate::redis::pool::setup_function setup, const detail::redis::tls_context& tls = {})
        : address(std::move(at)), pool(detail::redis::make_connector(where, options.connect, tls), where, options,
                                       std::move(setup)) {}

    node_address address;
    ::hotstate::redis::pool pool;
    /// Up to four replica node indexes, 16 bits each (0xffff: none), when this node is a master.
    std::atomic<std::uint64_t> replicas{~std::uint64_t{0}};
};

/// The standalone settings of one data node (`url`) from a cluster_config or
/// sentinel_config: its node_settings (timeouts, pool bounds, credentials, protocol, keep-alive, TLS).
template <class Settings>
[[nodiscard]] ::hotstate::redis::config node_config(const Settings& settings, std::string url) {
    ::hotstate::redis::config single;
    single.url = std::move(url);
    single.node = settings.node;
    return single;
}

/// The endpoint of the node at `address`, reached as `like` (credentials, TLS).
[[nodiscard]] inline ::hotstate::redis::endpoint node_endpoint(const ::hotstate::redis::endpoint& like,
                                                               const node_address& address) {
    ::hotstate::redis::endpoint where;
    where.type = ::hotstate::redis::endpoint::kind::tcp;
    where.host = address.host;
    where.port = address.port;
    where.username = like.username;
    where.password = like.password;
    where.tls = like.tls;
    return where;
}

/// The seed nodes of a cluster_config, checked, and what every node is
/// reached with: the first seed's resolved endpoint (credentials, TLS) and
/// settings (pool fields, timeouts).
struct cluster_seeds {
    std::vector<node_address> nodes;
    ::hotstate::redis::config first;
    ::hotstate::redis::endpoint reach;

    /// `reach` pointed at `address` (a seed, a master, a redirect's target).
    [[nodiscard]] ::hotstate::redis::endpoint endpoint_of(const node_address& address) const {
        return node_endpoint(reach, address);
    }
};

/// Reads and checks `settings.urls` (errc::configuration: none, a bad URL, a
/// Unix socket, a database other than 0, what resolve() refuses).
template <class Settings>
[[nodiscard]] cluster_seeds read_seeds(const Settings& settings) {
    if (settings.urls.empty())
        throw error(errc::configuration, "hotstate: redis_cluster configuration: urls must name at least one seed node");
    cluster_seeds seeds;
    for (const auto& url : settings.urls) {
        ::hotstate::redis::config single = node_config(settings, url);
        auto where = ::hotstate::redis::resolve(single);  // refuses resp3, TLS, bad URLs, bad pool fields
        if (where.type != ::hotstate::redis::endpoint::kind::tcp)
            throw error(errc::configuration, "hotstate: redis_cluster configuration: URL '" +
                                                 url_text::redact(url) +
                                                 "': cluster nodes are reached over TCP, not a Unix socket");
        if (where.db != 0)
            throw error(errc::configuration, "hotstate: redis_cluster configuration: URL '" +
                                                 url_text::redact(url) +
                                                 "': Redis Cluster has database 0 only");
        if (seeds.nodes.empty()) {
            seeds.first = std::move(single);
            seeds.reach = where;
        }
        seeds.nodes.push_back(node_address{where.host, where.port});
    }
    return seeds;
}

/// An error's own message, without the ": <category message>" std::system_error
/// appends to what(), so that wrapping it again does not repeat that suffix.
[[nodiscard]] inline std::string message_of(const error& e) {
    std::string text = e.what();
    const std::string suffix = ": " + e.code().message();
    if (text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0)
        text.resize(text.size() - suffix.size());
    return text;
}

/// The error an operation ends with when the retry budget is spent.
[[nodiscard]] inline error give_up_error(std::string_view backend, std::string_view where, std::string_view command,
                                         unsigned retries, errc kind, std::string_view last) {
    std::string text(backend);
    text.append(": ").append(where).append(": ").append(command).append(" failed after ");
    text.append(std::to_string(retries)).append(retries == 1 ? " retry: " : " retries: ").append(last);
    return error(kind, text);
}

/// `e` told with the router's context ("backend: where: command: ..."); same
/// kind, same outcome_unknown().
[[nodiscard]] inline error with_context(const error& e, std::string_view backend, std::string_view where,
                                        std::string_view command) {
    std::string text(backend);
    text.append(": ").append(where).append(": ").append(command).append(": ").append(e.message());
    return error(e, text);
}

/// How an attempt of a routed exchange ended without an outcome: what the
/// exchange decided, and what the final error would say.
struct attempt_end {
    proto::decision next;          ///< the exchange's decision
    std::string last;              ///< the failure, for the final error's message
    errc kind = errc::connection;  ///< the final error's kind
    std::optional<error> cause;    ///< the connection's own error, when one broke after a write
    std::optional<node_address> moved_to;  ///< a MOVED's node (the router patches its map)

    /// A redirect the exchange judged (commands::redirected).
    template <std::size_t N>
    static attempt_end of(proto::exchange<N, true>& ex, const reply_redirect& redirect) {
        attempt_end end;
        const failure_kind kind = redirect.what.kind;
        if (kind == failure_kind::moved) end.moved_to = redirect.what.target;
        end.kind = kind == failure_kind::moved || kind == failure_kind::ask ? errc::server : errc::connection;
        end.last = redirect.address + ": " + redirect.message;
        end.next = ex.on_redirect();
        return end;
    }
    /// A connection that broke (`sent`: after a byte of the request left).
    template <std::size_t N>
    static attempt_end of(proto::exchange<N, true>& ex, const error& e, bool sent) {
        attempt_end end;
        end.kind = e.kind();
        end.last = message_of(e);
        end.next = ex.on_failure(proto::failure_of(e), sent);
        if (sent) end.cause = e;
        return end;
    }
    /// No connection to be had (`why`): nothing was written.
    template <std::size_t N>
    static attempt_end unreachable(proto::exchange<N, true>& ex, errc kind, std::string why) {
        attempt_end end;
        end.kind = kind;
        end.last = std::move(why);
        end.next = ex.on_failure(proto::failure::unreachable, false);
        return end;
    }
};

/// The error a routed exchange ends with (`where` names the node it last
/// went to): a once request that may have run, told with where it went; a
/// spent budget ("failed after N retries: <last>"), with the outcome unknown
/// when some attempt may have been applied.
template <std::size_t N>
[[nodiscard, gnu::cold]] error routed_failure(std::string_view backend, std::string_view where, std::string_view command,
                                             const proto::exchange<N, true>& ex, const attempt_end& end) {
    if (end.cause && ex.retries() == 0)
        return with_context(proto::give_up(*end.cause, end.next, ex.all_idempotent(), 0), backend, where, command);
    error spent = give_up_error(backend, where, command, ex.retries(), end.kind, end.last);
    if (!end.next.outcome_unknown) return spent;
    return proto::give_up(spent, end.next, ex.all_idempotent(), ex.retries());
}

/// The attempts of a routed exchange, written once for the cluster and
/// sentinel routers. `route` says, per attempt, which pool it goes to
/// (target(): null when no node serves it, with why), does what a retry needs
/// first (look_again(end): a MOVED's map patch, a refresh or a rediscovery,
/// the backoff wait) and names where an attempt went (where(), for errors);
/// the exchange decides everything else. Wrong credentials or settings end
/// the request at once: waiting does not heal them.
template <class Route, std::size_t N, class Attempt>
[[gnu::always_inline]] inline decltype(auto) routed_attempts(Route& route, proto::exchange<N, true>& ex,
                                                             std::string_view command, Attempt&& attempt) {
    std::optional<attempt_end> end;
    const ::hotstate::redis::pool* broke = nullptr;  // the pool whose connection broke under the last attempt
    for (;;) {
        if (end) [[unlikely]] {
            if (!end->next.retry) throw routed_failure(Route::backend, route.where(), command, ex, *end);
            route.look_again(*end);
        }
        ::hotstate::redis::pool* pool = route.target();
        if (pool == nullptr) [[unlikely]] {
            errc kind = errc::connection;
            std::string why = route.unreachable(kind);
            if (kind == errc::authentication || kind == errc::configuration)
                throw give_up_error(Route::backend, route.where(), command, 0, kind, why);
            end = attempt_end::unreachable(ex, kind, std::move(why));
            continue;
        }
        std::optional<::hotstate::redis::pool::lease> held;
        try {
            // after a broken connection, one opened since: the same failure may have closed its siblings
            if (pool == broke) [[unlikely]]
                held.emplace(pool->acquire_fresh(pool->epoch()));
            else
                held.emplace(pool->acquire());
        } catch (const error& e) {
            if (e.kind() == errc::authentication || e.kind() == errc::configuration)
                throw give_up_error(Route::backend, route.where(), command, 0, e.kind(), message_of(e));
            end = attempt_end::unreachable(ex, e.kind(), message_of(e));
            continue;
        }
        ::hotstate::redis::connection& c = **held;
        c.begin_request();
        try {
            return attempt(c);
        } catch (const reply_redirect& redirect) {
            end = attempt_end::of(ex, redirect);
        } catch (const error& e) {
            if (!c.broken()) throw;  // an error reply: the answer
            end = attempt_end::of(ex, e, c.request_sent());
            broke = pool;
            continue;
        }
        broke = nullptr;
    }
}

/// The exchange of a body that writes and reads by itself, of effect `E`.
template <bool Redirects, ::hotstate::redis::effect E>
[[nodiscard]] constexpr proto::exchange<1, Redirects> opaque_exchange(::hotstate::redis::effect_tag<E>,
                                                                       ::hotstate::redis::retry_policy budget) noexcept {
    return proto::exchange<1, Redirects>({proto::command_traits{1, E == ::hotstate::redis::effect::idempotent, false, false}},
                                         budget);
}

}  // namespace hotstate::detail::redis::routing
