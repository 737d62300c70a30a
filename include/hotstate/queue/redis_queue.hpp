// hotstate/queue/redis_queue.hpp: job queues on Redis, Redis Sentinel and
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

namespace detail::queue {
/// A backend built on the Redis engine's routed_backend (standalone, Sentinel,
/// Cluster, or a user's class derived from one of them).
template <class Backend>
concept routed_redis_backend = requires(Backend& backend) { redis::routing::router_access::of(backend); };
}  // namespace detail::queue

/// Redis, Redis Sentinel and Redis Cluster hold job queues (QueueBackend): one
/// engine over the backend's router, so a MOVED, a failover or a reconnect is
/// handled as for any other operation.
template <detail::queue::routed_redis_backend Backend>
struct queue_support<Backend> {
    /// An engine over the backend's router (a pointer: cheap to copy).
    static auto engine(Backend& backend) { return detail::queue::redis_engine<Backend>(backend); }
};

static_assert(QueueBackend<backends::redis>);

}  // namespace hotstate
