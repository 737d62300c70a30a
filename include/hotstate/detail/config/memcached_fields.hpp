// hotstate/detail/config/memcached_fields.hpp: how the memcached backend's
// config looks in JSON ("@type": "Memcached"), and what validate_on_load
// checks of it.
//
//   {"@type": "Memcached", "urls": ["memcached://10.0.0.5:11211"], "timeout": "2s",
//    "poolMaxConnections": 10, "poolTimeoutWait": "30s", "poolTimeoutRecycle": "30s",
//    "tcpKeepalive": true, "fenceRetention": "10m", "tls": {"caFile": "/etc/ssl/memcached-ca.pem"}}
//
// The seeds are silent on memcached; the field names follow the Redis
// variants' (urls as RedisCluster's, timeout and the pool fields flat). Each
// URL must parse (parse_memcached_url's message at its path `urls[i]`), the
// timeout be longer than 0, poolMaxConnections be 1..10000. validate_on_load
// connects to each server and asks its version: memcached older than 1.6 has
// no meta protocol, and is a problem.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/adapt_struct.hpp>

#include <hotstate/backends/memcached.hpp>
#include <hotstate/detail/config/redis_fields.hpp>
#include <hotstate/detail/config/reflect.hpp>
#include <hotstate/detail/config/sent_commands.hpp>
#include <hotstate/detail/memcached/io/connection.hpp>
#include <hotstate/error.hpp>

BOOST_HANA_ADAPT_STRUCT(hotstate::backends::memcached_config, urls, timeout, pool_max_connections, pool_timeout_wait,
                        pool_timeout_recycle, tcp_keepalive, fence_retention, tls);

namespace hotstate::detail::config {

template <>
struct required<::hotstate::backends::memcached_config> {
    static constexpr std::array<std::string_view, 1> names{"urls"};
};

/// poolMaxConnections as a Redis pool's.
template <>
struct ranges<::hotstate::backends::memcached_config> {
    static constexpr std::array<field_range, 1> fields{field_range{"pool_max_connections", 1, 10000}};
};

template <>
struct checks<::hotstate::backends::memcached_config> {
    static void run(const ::hotstate::backends::memcached_config& settings, const reader& in, const json_path& object) {
        json_path path = object;
        path.emplace_back("urls");
        if (settings.urls.empty()) in.fail(path, "at least one URL is needed");
        for (std::size_t i = 0; i < settings.urls.size(); ++i) {
            path.emplace_back(i);
            try {
                (void)::hotstate::backends::parse_memcached_url(settings.urls[i]);
            } catch (const error& failure) {
                std::string what = failure.message();
                if (const auto at = what.find("memcached URL"); at != std::string::npos) what.erase(0, at);
                in.fail(path, what);
            }
            path.pop_back();
        }
        if (settings.timeout.count() <= 0) {
            json_path timeout = object;
            timeout.emplace_back("timeout");
            in.fail(timeout, "must be longer than 0");
        }
    }
};

/// The version a memcached server states ("1.6.18"), asked on a connection of its own.
[[nodiscard]] inline std::string memcached_version(const ::hotstate::redis::endpoint& where,
                                                   const ::hotstate::redis::connection_options& options) {
    memcached::connection c(detail::redis::make_connector(where, options), where, options);
    c.begin_request();
    return c.version();
}

/// Whether memcached `version` ("1.6.18") has the meta protocol (1.6 or later).
[[nodiscard]] inline bool has_meta_protocol(std::string_view version) noexcept {
    const auto dot = version.find('.');
    const auto major = parse_decimal<unsigned>(version.substr(0, dot));
    if (!major || dot == std::string_view::npos) return false;
    const auto rest = version.substr(dot + 1);
    const auto minor = parse_decimal<unsigned>(rest.substr(0, rest.find('.')));
    return minor && (*major > 1 || (*major == 1 && *minor >= 6));
}

/// validate_on_load: every server answers, with the meta protocol.
inline void validate(const ::hotstate::backends::memcached_config& settings, std::vector<std::string>& problems,
                     const capabilities& = {}) {
    ::hotstate::redis::connection_options options;
    options.connect_timeout = options.command_timeout = settings.timeout;
    options.tcp_keepalive = settings.tcp_keepalive;
    for (const auto& url : settings.urls) {
        try {
            const auto where = ::hotstate::backends::memcached_endpoint(settings, url);
            const std::string version = memcached_version(where, options);
            if (!has_meta_protocol(version))
                problems.push_back("memcached " + where.address() + ": version " + version +
                                   " has no meta protocol; hotstate needs memcached 1.6 or later");
        } catch (const error& failure) {
            problems.push_back(failure.message());
        }
    }
}

}  // namespace hotstate::detail::config
