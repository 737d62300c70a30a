// hotstate/redis/config.hpp: how to reach a Redis server, as plain data.
//
// The fields are the seeds' (url, timeout, poolMaxConnections,
// poolTimeoutCreate/Wait/Recycle, authUsername/authSecret, protocolVersion)
// with the same defaults, as std::chrono durations. URL parsing is a pure
// function (parse_url) so it is tested without a server, and every way of
// printing a config or an endpoint masks the password as ***.
//
// What this build's hiredis cannot do is refused here, at configuration time,
// with errc::configuration: hiredis 0.14 speaks RESP2 only and has no TLS, so
// `rediss://` and protocol_version::resp3 are errors (decided from
// HIREDIS_MAJOR, so a build against hiredis >= 1.0 can lift the TLS rule).
#pragma once

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <hiredis/hiredis.h>

#include <hotstate/error.hpp>

#if __has_include(<fmt/format.h>)
#include <fmt/format.h>
#define HOTSTATE_REDIS_HAS_FMT 1
#endif

namespace hotstate::redis {

/// The wire protocol to speak. hiredis 0.14 only has RESP2.
enum class protocol_version : std::uint8_t { resp2, resp3 };

/// Settings of a standalone Redis connection and its pool (the seeds' fields).
struct config {
    /// `redis://[user[:password]@]host[:port][/db]` or `unix:///path/to.sock[?db=N]`.
    std::string url = "redis://127.0.0.1:6379";
    /// Bound on connecting and on every command's round trip.
    std::chrono::milliseconds timeout{std::chrono::seconds{10}};
    /// At most this many connections to the server.
    std::size_t pool_max_connections = 10;
    /// Bound on connecting a new pooled connection (its AUTH, SELECT and script
    /// load are commands, each bounded by `timeout`).
    std::chrono::milliseconds pool_timeout_create{std::chrono::seconds{30}};
    /// How long a caller waits for a free connection before a timeout error.
    std::chrono::milliseconds pool_timeout_wait{std::chrono::seconds{30}};
    /// A connection idle longer than this is checked with PING before reuse.
    std::chrono::milliseconds pool_timeout_recycle{std::chrono::seconds{30}};
    /// ACL user name (`AUTH user pass`); overrides the URL's.
    std::optional<std::string> auth_username{};
    /// Password; overrides the URL's. Never printed.
    std::optional<std::string> auth_secret{};
    /// RESP2 only with hiredis 0.14; resp3 is a configuration error.
    protocol_version protocol = protocol_version::resp2;
    /// TCP keep-alive on every connection (the seeds' deployments set tcp-keepalive 300).
    bool tcp_keepalive = true;
    /// How long a lock's fencing state outlives its lease (as backends::memory_config).
    std::chrono::milliseconds fence_retention{std::chrono::minutes{10}};
    /// Open one connection (connect, AUTH, SELECT) and PING when the backend is
    /// constructed, so a wrong address or password fails at start-up rather
    /// than on the first request.
    bool connect_on_start = false;
};

/// Where and how to log in: the parsed URL with the config's overrides applied.
struct endpoint {
    enum class kind : std::uint8_t { tcp, unix_socket };
    kind type = kind::tcp;
    std::string host = "127.0.0.1";  ///< tcp: name or address (IPv6 without brackets)
    std::uint16_t port = 6379;       ///< tcp
    std::string path{};              ///< unix_socket: the socket file
    std::uint32_t db = 0;            ///< SELECTed on connect when not 0
    std::optional<std::string> username{};
    std::optional<std::string> password{};

    /// "host:port" or the socket path: what error messages name.
    [[nodiscard]] std::string address() const {
        if (type == kind::unix_socket) return path;
        const bool v6 = host.find(':') != std::string::npos;
        return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    }

    bool operator==(const endpoint&) const = default;
};

/// The hiredis version this build compiled against, e.g. "0.14.1".
[[nodiscard]] inline std::string hiredis_version() {
    return std::to_string(HIREDIS_MAJOR) + "." + std::to_string(HIREDIS_MINOR) + "." + std::to_string(HIREDIS_PATCH);
}

/// Whether this build's hiredis has TLS (hiredis >= 1.0 with hiredis_ssl).
inline constexpr bool hiredis_has_tls = HIREDIS_MAJOR >= 1;
/// Whether this build's hiredis speaks RESP3 (hiredis >= 1.0).
inline constexpr bool hiredis_has_resp3 = HIREDIS_MAJOR >= 1;

namespace detail_config {

[[nodiscard]] inline error config_error(std::string_view what) {
    return error(errc::configuration, "hotstate: redis configuration: " + std::string(what));
}

inline int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Decodes %XX escapes (user names and passwords may contain '@' or ':').
inline std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt;
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return out;
}

template <class Int>
std::optional<Int> parse_number(std::string_view text) {
    Int value{};
    if (text.empty()) return std::nullopt;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec != std::errc{} || result.ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

/// The URL with any password replaced by ***, for messages.
inline std::string redact(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return std::string(url);
    const std::size_t authority = scheme_end + 3;
    const auto authority_end = url.find_first_of("/?", authority);
    const std::string_view auth_part = url.substr(authority, authority_end == std::string_view::npos
                                                                 ? std::string_view::npos
                                                                 : authority_end - authority);
    const auto at = auth_part.rfind('@');
    if (at == std::string_view::npos) return std::string(url);
    const std::string_view userinfo = auth_part.substr(0, at);
    const auto colon = userinfo.find(':');
    std::string out(url.substr(0, authority));
    out.append(colon == std::string_view::npos ? userinfo : userinfo.substr(0, colon)).append(":***");
    out.append(url.substr(authority + at));
    return out;
}

}  // namespace detail_config

/// Parses a Redis URL; throws errc::configuration naming the offending part
/// (and never the password). Pure: no I/O.
[[nodiscard]] inline endpoint parse_url(std::string_view url) {
    using detail_config::config_error;
    const std::string shown = detail_config::redact(url);
    const auto fail = [&](std::string_view why) { return config_error("URL '" + shown + "': " + std::string(why)); };

    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) throw fail("missing scheme (expected redis:// or unix://)");
    const std::string_view scheme = url.substr(0, scheme_end);
    std::string_view rest = url.substr(scheme_end + 3);
    endpoint result;

    if (scheme == "rediss") {
        if constexpr (!hiredis_has_tls)
            throw fail("TLS (rediss://) is not supported by this build's hiredis " + hiredis_version() +
                       " (TLS needs hiredis >= 1.0 with hiredis_ssl)");
        else
            throw fail("TLS (rediss://) is not implemented by hotstate's Redis backend yet");
    }
    if (scheme == "unix" || scheme == "redis+unix") {
        result.type = endpoint::kind::unix_socket;
        const auto query = rest.find('?');
        const std::string_view path = rest.substr(0, query);
        if (path.empty() || path.front() != '/') throw fail("socket path must be absolute (unix:///path/to.sock)");
        result.path = std::string(path);
        if (query != std::string_view::npos) {
            std::string_view parameters = rest.substr(query + 1);
            while (!parameters.empty()) {
                const auto amp = parameters.find('&');
                const std::string_view item = parameters.substr(0, amp);
                parameters = amp == std::string_view::npos ? std::string_view{} : parameters.substr(amp + 1);
                const auto eq = item.find('=');
                const std::string_view name = item.substr(0, eq);
                const std::string_view value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
                if (name == "db") {
                    const auto db = detail_config::parse_number<std::uint32_t>(value);
                    if (!db) throw fail("query parameter db='" + std::string(value) + "' is not a database number");
                    result.db = *db;
                } else {
                    throw fail("unknown query parameter '" + std::string(name) + "' (only db is understood)");
                }
            }
        }
        return result;
    }
    if (scheme != "redis") throw fail("unsupported scheme '" + std::string(scheme) + "' (expected redis:// or unix://)");

    const auto authority_end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view tail = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        const std::string_view userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        const auto colon = userinfo.find(':');
        const auto user = detail_config::percent_decode(userinfo.substr(0, colon));
        if (!user) throw fail("user name has a malformed %-escape");
        if (!user->empty()) result.username = *user;
        if (colon != std::string_view::npos) {
            const auto password = detail_config::percent_decode(userinfo.substr(colon + 1));
            if (!password) throw fail("password has a malformed %-escape");
            result.password = *password;
        }
    }

    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) throw fail("IPv6 host is missing its closing ']'");
        result.host = std::string(authority.substr(1, close - 1));
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') throw fail("unexpected text after the IPv6 host");
            port_text = after.substr(1);
            if (port_text.empty()) throw fail("empty port");
        }
    } else {
        const auto colon = authority.rfind(':');
        result.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) throw fail("empty port");
        }
    }
    if (result.host.empty()) throw fail("missing host");
    if (result.host.find_first_of(" \t/@") != std::string::npos) throw fail("host contains an invalid character");
    if (!port_text.empty()) {
        const auto port = detail_config::parse_number<std::uint32_t>(port_text);
        if (!port || *port == 0 || *port > 65535)
            throw fail("port '" + std::string(port_text) + "' is not a number in 1..65535");
        result.port = static_cast<std::uint16_t>(*port);
    }

    if (!tail.empty() && tail.front() == '/') {
        const auto query = tail.find('?');
        const std::string_view db_text = tail.substr(1, query == std::string_view::npos ? std::string_view::npos : query - 1);
        if (!db_text.empty()) {
            const auto db = detail_config::parse_number<std::uint32_t>(db_text);
            if (!db) throw fail("database '" + std::string(db_text) + "' is not a number");
            result.db = *db;
        }
        tail = query == std::string_view::npos ? std::string_view{} : tail.substr(query);
    }
    if (!tail.empty()) throw fail("query parameters are not supported on redis:// URLs");
    return result;
}

/// Checks `settings` and returns the endpoint to connect to: the URL parsed,
/// auth_username/auth_secret applied over the URL's credentials. Throws
/// errc::configuration for anything this build cannot honour.
[[nodiscard]] inline endpoint resolve(const config& settings) {
    using detail_config::config_error;
    if (settings.protocol == protocol_version::resp3) {
        if constexpr (!hiredis_has_resp3)
            throw config_error("protocol_version resp3 is not supported by this build's hiredis " + hiredis_version() +
                               " (RESP2 only; RESP3 needs hiredis >= 1.0)");
        else
            throw config_error("protocol_version resp3 is not implemented by hotstate's Redis backend yet");
    }
    if (settings.pool_max_connections == 0) throw config_error("pool_max_connections must be at least 1");
    if (settings.timeout.count() <= 0) throw config_error("timeout must be positive");
    if (settings.pool_timeout_create.count() <= 0 || settings.pool_timeout_wait.count() < 0 ||
        settings.pool_timeout_recycle.count() < 0)
        throw config_error("pool timeouts must not be negative (and pool_timeout_create positive)");
    endpoint result = parse_url(settings.url);
    if (settings.auth_username) result.username = settings.auth_username;
    if (settings.auth_secret) result.password = settings.auth_secret;
    if (result.username && !result.password)
        throw config_error("auth_username is set without a password (auth_secret or the URL's)");
    return result;
}

/// The endpoint for logs: credentials masked.
[[nodiscard]] inline std::string to_string(const endpoint& where) {
    std::string out = where.type == endpoint::kind::unix_socket ? "unix://" : "redis://";
    if (where.username || where.password) {
        if (where.username) out.append(*where.username);
        if (where.password) out.append(":***");
        out.push_back('@');
    }
    out.append(where.address());
    if (where.type == endpoint::kind::unix_socket) {
        if (where.db != 0) out.append("?db=").append(std::to_string(where.db));
    } else if (where.db != 0) {
        out.append("/").append(std::to_string(where.db));
    }
    return out;
}

/// The config for logs: every secret (URL password, auth_secret) printed as ***.
[[nodiscard]] inline std::string to_string(const config& settings) {
    const auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; };
    std::string out = "redis{url=" + detail_config::redact(settings.url);
    out += ", timeout=" + ms(settings.timeout);
    out += ", pool_max_connections=" + std::to_string(settings.pool_max_connections);
    out += ", pool_timeout_create=" + ms(settings.pool_timeout_create);
    out += ", pool_timeout_wait=" + ms(settings.pool_timeout_wait);
    out += ", pool_timeout_recycle=" + ms(settings.pool_timeout_recycle);
    if (settings.auth_username) out += ", auth_username=" + *settings.auth_username;
    if (settings.auth_secret) out += ", auth_secret=***";
    out += settings.protocol == protocol_version::resp2 ? ", protocol=resp2" : ", protocol=resp3";
    out += settings.tcp_keepalive ? ", tcp_keepalive=on" : ", tcp_keepalive=off";
    out += ", fence_retention=" + ms(settings.fence_retention);
    out += settings.connect_on_start ? ", connect_on_start=on}" : "}";
    return out;
}

}  // namespace hotstate::redis

#ifdef HOTSTATE_REDIS_HAS_FMT
/// Formats a redis::config with its secrets masked (same text as to_string).
template <>
struct fmt::formatter<hotstate::redis::config> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const hotstate::redis::config& settings, FormatContext& ctx) const {
        const std::string text = hotstate::redis::to_string(settings);
        return fmt::formatter<std::string_view>::format(std::string_view(text), ctx);
    }
};
/// Formats a redis::endpoint with its password masked.
template <>
struct fmt::formatter<hotstate::redis::endpoint> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const hotstate::redis::endpoint& where, FormatContext& ctx) const {
        const std::string text = hotstate::redis::to_string(where);
        return fmt::formatter<std::string_view>::format(std::string_view(text), ctx);
    }
};
#endif
