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
#include <thread>
#include <utility>
#include <vector>

#include <hotstate/detail/redis/routing/redirect.hpp>
#include <hotstate/detail/redis/routing/routed_backend.hpp>
#include <hotstate/detail/redis/routing/slot_map.hpp>
#include <hotstate/detail/redis/url_text.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::redis::routing {

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

/// Whether an error thrown by an attempt may heal on another try (a broken or
/// slow connection) and the attempt is safe to repeat (nothing of a
/// redis::once request can have run: see error::outcome_unknown()); every
/// other error goes to the caller at once.
[[nodiscard]] inline bool retryable(const error& e) noexcept {
    return (e.kind() == errc::connection || e.kind() == errc::timeout) && !e.outcome_unknown();
}

/// `e` told with the router's context ("backend: where: command: ..."); same
/// kind, same outcome_unknown().
[[nodiscard]] inline error with_context(const error& e, std::string_view backend, std::string_view where,
                                        std::string_view command) {
    std::string text(backend);
    text.append(": ").append(where).append(": ").append(command).append(": ").append(e.message());
    return error(e, text);
}

/// One failed attempt, as the retry loop needs it.
struct attempt_failure {
    /// What the retry state machine sees.
    classified_error what;
    /// The last failure, for the final error message.
    std::string text;
    /// The kind of the final error.
    errc kind = errc::connection;

    /// From an error reply the router acts on.
    static attempt_failure of(const reply_redirect& redirect) {
        const bool redirected = redirect.what.kind == failure_kind::moved || redirect.what.kind == failure_kind::ask;
        return {redirect.what, redirect.address + ": " + redirect.message, redirected ? errc::server : errc::connection};
    }
    /// From a retryable error (see retryable()).
    static attempt_failure of(const error& e) {
        return {classified_error{failure_kind::connection, 0, std::nullopt}, message_of(e), e.kind()};
    }
};

/// Wrong credentials or settings do not heal by waiting: when no node could be
/// reached for one of those reasons, the operation fails at once.
template <class Where>
void stop_if_hopeless(std::string_view backend, const attempt_failure& failure, Where&& where, std::string_view command) {
    if (failure.kind == errc::authentication || failure.kind == errc::configuration)
        throw give_up_error(backend, where(), command, 0, failure.kind, failure.text);
}

/// The retry budget of one operation: after each failed attempt, next() either
/// throws the final error or counts the retry and says what to do; the router
/// then looks again (refresh, rediscovery) and calls back_off().
class retry_loop {
public:
    /// `failures` counts every retry granted (the router's retry_count()).
    retry_loop(retry_policy policy, std::string_view backend, std::atomic<std::uint64_t>& failures) noexcept
        : fsm_(policy), backend_(backend), failures_(&failures) {}

    /// The next step after `failure`; throws give_up_error (naming `where()`)
    /// when the budget is spent.
    template <class Where>
    retry_step next(const attempt_failure& failure, Where&& where, std::string_view command) {
        retry_step step = fsm_.on_failure(failure.what);
        if (step.what == retry_step::action::give_up)
            throw give_up_error(backend_, where(), command, fsm_.retries(), failure.kind, failure.text);
        failures_->fetch_add(1, std::memory_order_relaxed);
        return step;
    }

    /// Waits as `step` says before the next attempt.
    static void back_off(const retry_step& step) {
        if (step.wait.count() > 0) std::this_thread::sleep_for(step.wait);  // backoff before the next attempt
    }

private:
    retry_fsm fsm_;
    std::string_view backend_;
    std::atomic<std::uint64_t>* failures_;
};

}  // namespace hotstate::detail::redis::routing
