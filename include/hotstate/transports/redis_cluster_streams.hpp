// hotstate/transports/redis_cluster_streams.hpp: durable coordinator messages on
// a Redis Stream in a Redis Cluster.
//
//   hotstate::transports::redis_streams_options options;
//   options.stream = "{hotstate}:stream";
//   options.cursor_key = "{hotstate}:cursor:node-7";   // same {hash tag}: same slot
//   auto transport = hotstate::transports::make_redis_cluster_streams(cluster_settings, options);
//
// The same transport as redis_streams, connected through a cluster link routed
// by the stream's key: XADD, the cursor and the blocking XREAD all go to the
// master of the stream's slot, and follow it across a failover or a reshard.
// A stream is one key, so it lives in one slot; its cursor keys must share
// that slot, which a common {hash tag} guarantees and the factory checks.
#pragma once

#include <utility>

#include <hotstate/detail/redis/link/cluster_link.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/transports/redis_streams.hpp>

namespace hotstate::transports {

/// redis_streams over a Redis Cluster (see the banner above).
using redis_cluster_streams = basic_redis_streams<detail::redis::link::cluster_link>;

/// A streams transport on the cluster `settings` names; refuses (errc::configuration)
/// a cursor_key outside the stream's hash slot.
[[nodiscard]] inline redis_cluster_streams make_redis_cluster_streams(const redis::cluster_config& settings,
                                                                      redis_streams_options options = {}) {
    if (!options.cursor_key.empty() &&
        detail::redis::routing::key_slot(options.cursor_key) != detail::redis::routing::key_slot(options.stream))
        throw error(errc::configuration,
                    "hotstate redis_cluster_streams: cursor_key and stream must be in one hash slot; give both one "
                    "{hash tag}, e.g. \"{hotstate}:stream\" and \"{hotstate}:cursor:node-1\"");
    detail::redis::link::cluster_link link(settings, options.stream);
    return redis_cluster_streams(std::move(link), std::move(options));
}

static_assert(Transport<redis_cluster_streams>);

}  // namespace hotstate::transports
