// hotstate/hotstate.hpp: the umbrella header.
//
// Everything that needs no client library: categories, codecs, the store and
// its concepts, the embedded backend, and the coordinator with its stock
// events and the in-process transport. Backends and transports that need
// hiredis or SQLite are one include each, so a program pays only for what it
// uses:
//
//   #include <hotstate/backends/redis.hpp>           // hotstate::redis (hiredis)
//   #include <hotstate/backends/redis_cluster.hpp>   // Redis Cluster
//   #include <hotstate/backends/redis_sentinel.hpp>  // Redis Sentinel
//   #include <hotstate/backends/sharded.hpp>         // xxh3 sharding over any of them
//   #include <hotstate/backends/compiled.hpp>        // any of them, its code compiled once
//   #include <hotstate/backends/sqlite.hpp>          // hotstate::sqlite
//   #include <hotstate/backends/memcached.hpp>       // memcached (the engine's pool: hotstate::redis)
//   #include <hotstate/transports/redis_pubsub.hpp>  // and redis_streams.hpp, redis_cluster_*.hpp
#pragma once

#include <hotstate/backend.hpp>
#include <hotstate/backends/memory.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/category.hpp>
#include <hotstate/channel.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/coordinator.hpp>
#include <hotstate/customization_points.hpp>
#include <hotstate/error.hpp>
#include <hotstate/events.hpp>
#include <hotstate/key.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/store.hpp>
#include <hotstate/transport.hpp>
#include <hotstate/transports/local.hpp>
