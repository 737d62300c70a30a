// hotstate/detail/config/store_fields.hpp: how the embedded and SQLite
// backends' configs look in JSON.
//
// memory_config and sqlite_config are plain aggregates without a Hana field
// list of their own, so they are adapted here (from outside, which Hana
// allows); their JSON names are the camelCase of the C++ names.
#pragma once

#include <array>
#include <string_view>

#include <boost/hana/adapt_struct.hpp>

#include <hotstate/backends/memory.hpp>
#include <hotstate/detail/config/reflect.hpp>

#if __has_include(<sqlite3.h>)
#include <hotstate/backends/sqlite.hpp>
#define HOTSTATE_DETAIL_CONFIG_HAS_SQLITE 1
#endif

BOOST_HANA_ADAPT_STRUCT(hotstate::backends::memory_config, memory_limit, shards, sweep_interval, sweep_budget,
                        fence_retention);

#ifdef HOTSTATE_DETAIL_CONFIG_HAS_SQLITE
BOOST_HANA_ADAPT_STRUCT(hotstate::backends::sqlite_config, path, busy_timeout, purge_batch, purge_interval,
                        fence_retention, max_connections, sync_every_commit, check_on_open);

namespace hotstate::detail::config {

template <>
struct required<::hotstate::backends::sqlite_config> {
    static constexpr std::array<std::string_view, 1> names{"path"};
};

/// maxConnections as a Redis pool's (redis/node_settings.hpp's max_pool_connections).
template <>
struct ranges<::hotstate::backends::sqlite_config> {
    static constexpr std::array<field_range, 1> fields{field_range{"max_connections", 1, 10000}};
};

}  // namespace hotstate::detail::config
#endif
