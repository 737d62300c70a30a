// hotstate/transports/redis_cluster_pubsub.hpp: coordinator messages over Redis
// pub/sub on a Redis Cluster.
//
//   hotstate::transports::redis_cluster_pubsub transport(
//       hotstate::detail::redis::link::cluster_link(cluster_settings, "hotstate:coordinator"));
//
// The same transport as redis_pubsub (same subscriber loop, health checks,
// outage reports), connected through a cluster link: PUBLISH goes to the
// master of the routing key's slot through the cluster router (retried across
// a failover), and the subscriber, since pub/sub is cluster-wide, listens on
// any live node and moves to another one when that node dies.
#pragma once

#include <hotstate/detail/redis/link/cluster_link.hpp>
#include <hotstate/transports/redis_pubsub.hpp>

namespace hotstate::transports {

/// redis_pubsub over a Redis Cluster (see the banner above).
using redis_cluster_pubsub = basic_redis_pubsub<detail::redis::link::cluster_link>;

static_assert(Transport<redis_cluster_pubsub>);

}  // namespace hotstate::transports
