// hotstate/backends/redis_queue.hpp: job queues on Redis, Redis Sentinel and
// Redis Cluster.
//
// Every state change (enqueue, claim, heartbeat, ack, fail, release, requeue,
// purge) is one Lua script, atomic on the server; every key of a queue shares
// the hash tag `{<queue id>}`, so a queue lives in one Cluster slot and
// different queues spread over slots. Scripts run through the backend's router,
// so a MOVED, a failover or a reconnect is handled as for any other operation,
// and a command that may have run is never sent twice unless that is harmless
// (enqueue is: a second run finds the id and adds nothing). A blocked claim
// waits on BLPOP of the queue's wake-up list, which every enqueue pushes to:
// one command per claim_wait (at most a second) while idle, woken at once.
// Jobs are as durable as the server's persistence (appendonly + appendfsync
// always loses no acknowledged enqueue on a restart) and, with
// queue_options::wait_replicas, its replication.
#pragma once

#include <hotstate/backends/redis.hpp>
#include <hotstate/detail/redis/routing/routed_backend.hpp>
#include <hotstate/detail/queue/redis_engine.hpp>
#include <hotstate/queue.hpp>

namespace hotstate {

/// Standalone Redis holds job queues (QueueBackend).
template <Clock C>
struct queue_support<backends::basic_redis<C>> {
    /// An engine over the backend's pool (a pointer: cheap to copy).
    static detail::queue::redis_engine<backends::basic_redis<C>> engine(backends::basic_redis<C>& backend) {
        return detail::queue::redis_engine<backends::basic_redis<C>>(backend);
    }
};

/// Redis Cluster and Redis Sentinel (their routers) hold job queues (QueueBackend).
template <class Router, Clock C>
struct queue_support<detail::redis::routing::routed_backend<Router, C>> {
    /// An engine over the backend's router (a pointer: cheap to copy).
    static detail::queue::redis_engine<detail::redis::routing::routed_backend<Router, C>> engine(
        detail::redis::routing::routed_backend<Router, C>& backend) {
        return detail::queue::redis_engine<detail::redis::routing::routed_backend<Router, C>>(backend);
    }
};

static_assert(QueueBackend<backends::redis>);

}  // namespace hotstate
