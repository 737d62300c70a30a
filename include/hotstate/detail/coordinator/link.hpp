// The Link concept: where the coordinator's Redis transports connect.
//
// A Redis transport (transports::basic_redis_pubsub, basic_redis_streams) does
// its protocol (PUBLISH/SUBSCRIBE, XADD/XREAD, cursors, health checks) on
// connections a Link gives it; the Link alone knows whether they come from one
// server's pool or from a cluster's router, so one transport body serves both.
//
//   role                       what the transport asks of the link
//   send (PUBLISH, XADD)       execute(command): a command value (detail/redis/proto/stream_commands.hpp)
//                              as one exchange on a pooled connection, or on the master of the
//                              routing key's slot; sent again after a lost reply only when the
//                              command is idempotent (PUBLISH and XADD are not: a lost reply is
//                              the send's failure, which the transport handles)
//   receive (SUBSCRIBE, XREAD) open_dedicated(read_timeout): a connection of its own
//                              (AUTH/SELECT done) for the blocking reader thread
//   messages, timeouts         address(): "host:port" for errors; command_timeout()
//
// Models, and when to use each:
//   - detail::redis_link (detail/coordinator/redis_link.hpp): one Redis server
//     reached through a pool: its own pool from a redis::config, or a Redis
//     store's pool borrowed, so a program that has a store does not open a
//     second one. The default Link of redis_pubsub and redis_streams.
//   - detail::redis::link::cluster_link (detail/redis/link/cluster_link.hpp): a Redis
//     Cluster. Commands go through the cluster router to the master of the
//     routing key's slot (the channel or the stream) and follow a failover or a
//     reshard; the reader connects to that master first, then any live node.
//     The Link of redis_cluster_pubsub, redis_cluster_sharded_pubsub and
//     redis_cluster_streams.
//
// A model is movable (the transport is built around it) and thread-compatible
// in this sense: execute() is called from the sending thread while the receive
// thread calls open_dedicated(), address() and command_timeout().
#pragma once

#include <chrono>
#include <concepts>
#include <string>

#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail {

/// Stands for the commands a transport hands Link::execute, in concept checks.
using link_command_archetype = redis::commands::ping;

/// Where a Redis transport connects (see the banner above).
template <class L>
concept Link = std::move_constructible<L> &&
               requires(L& link, const L& view, std::chrono::milliseconds read_timeout) {
                   { link.execute(link_command_archetype{}) } -> std::same_as<bool>;
                   { view.open_dedicated(read_timeout) } -> std::same_as<::hotstate::redis::connection>;
                   { view.address() } -> std::convertible_to<std::string>;
                   { view.command_timeout() } -> std::same_as<std::chrono::milliseconds>;
               };

}  // namespace hotstate::detail
