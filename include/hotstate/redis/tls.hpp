// hotstate/redis/tls.hpp: how to speak TLS to a Redis server: hotstate's one
// TLS settings type (hotstate/tls.hpp), by the name the Redis settings use.
#pragma once

#include <hotstate/tls.hpp>

namespace hotstate::redis {

/// TLS settings of a connection to a Redis server (redis-server's `tls-port`).
using tls_options = ::hotstate::tls_options;

}  // namespace hotstate::redis
