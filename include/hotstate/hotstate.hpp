// hotstate/hotstate.hpp: the umbrella header.
//
// Includes the core and the embedded backend. Backends and transports that
// need a client library (hiredis, SQLite) have their own headers, so that a
// program pays only for what it uses: include hotstate/backends/redis.hpp and
// friends where you need them.
#pragma once

#include <hotstate/backend.hpp>
#include <hotstate/backends/memory.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/category.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/customization_points.hpp>
#include <hotstate/error.hpp>
#include <hotstate/key.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/store.hpp>
