// hotstate/detail/redis/routing/router.hpp: the Router concept, the policy that
// decides where the store operations of a Redis backend run.
//
// routed_backend (the store operations, written once) runs every command value
// through a Router as an exchange (detail/redis/proto/exchange.hpp): the router
// picks a connection for the key, runs an attempt there, and, when the attempt
// meets a redirect, a failover or a dead node, asks the exchange whether to
// try again and does it where the exchange says (never re-sending a request
// that may have run, unless it is idempotent).
//
// Models (each static_asserts the concept):
//
//   | model           | backend                  | when                                            |
//   |-----------------|--------------------------|-------------------------------------------------|
//   | single_router   | backends::redis          | one server (TCP, Unix socket, TLS): one pool,   |
//   |                 |                          | no redirect to follow, the cheapest hot path    |
//   | cluster_router  | backends::redis_cluster  | Redis Cluster: the slot table, MOVED/ASK/       |
//   |                 |                          | TRYAGAIN/CLUSTERDOWN, replicas for reads        |
//   | sentinel_router | backends::redis_sentinel | a master watched by sentinels: rediscovery on   |
//   |                 |                          | failover (READONLY, LOADING, MASTERDOWN, a      |
//   |                 |                          | dead master)                                    |
//
// A router whose keys live on more than one node (one_node false) also exposes
// its node table, so a pipeline can group operations by node.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>

#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::redis::routing {

/// Whether a command only reads (may go to a replica) or writes.
enum class access : std::uint8_t { read, write };

/// What a Router's concept check runs: a body on a connection.
struct router_probe_body {
    int operator()(::hotstate::redis::connection&) const;
};

/// The policy that runs operation bodies on the right server; see the banner.
template <class R>
concept Router = requires(R& router, const R& view, std::string_view key, access mode, std::string_view command,
                          router_probe_body body, proto::exchange<1, R::follows_redirects>& ex) {
    typename R::config_type;
    /// May an error reply send the command elsewhere (the exchange then judges redirects)?
    { R::follows_redirects } -> std::convertible_to<bool>;
    /// Do all keys live on one server (multi-key commands and one-write pipelines are fine)?
    { R::one_node } -> std::convertible_to<bool>;
    { view.settings() } -> std::same_as<const typename R::config_type&>;
    /// The retry budget of every exchange it runs.
    { view.retry_budget() } -> std::same_as<::hotstate::redis::retry_policy>;
    /// Runs attempts of exchange `ex` for `key` until one gives an outcome or the exchange gives up.
    { router.execute(key, mode, ex, command, body) } -> std::same_as<int>;
    /// Runs a body that writes and reads by itself; re-sent after a lost reply only when the effect tag says idempotent.
    { router.execute(key, mode, ::hotstate::redis::idempotent, command, body) } -> std::same_as<int>;
    { router.execute(key, mode, ::hotstate::redis::once, command, body) } -> std::same_as<int>;
    /// Runs an idempotent `body` once on every master.
    router.for_each_master(command, body);
} && (R::one_node || requires(R& router, std::uint16_t index) {
    /// The node table, for pipelines grouped by node.
    { router.generation() } -> std::convertible_to<std::uint64_t>;
    router.refresh(std::uint64_t{0});
    { router.master_index(index) } -> std::convertible_to<std::uint16_t>;
    { router.pool_of(index) } -> std::same_as<::hotstate::redis::pool&>;
});

}  // namespace hotstate::detail::redis::routing
