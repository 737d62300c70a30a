// hotstate/redis/config.hpp: how to reach a Redis server, as plain data.
//
// A url and the node_settings every Redis config shares (timeout, pool
// bounds, credentials, protocol, keep-alive, TLS: redis/node_settings.hpp),
// with the defaults of the Stalwart/EmailEngine/Nuxeo settings (url, timeout,
// poolMaxConnections, poolTimeoutCreate/Wait/Recycle, authUsername/authSecret,
// protocolVersion) as std::chrono durations. URL parsing is a pure function
// (parse_url) so it is tested without a server. The struct is a Hana Struct:
// to_string prints it from its field list, secrets (hotstate::secret) as ***.
//
// URLs: `redis://[user[:password]@]host[:port][/db]` and
// `unix:///path/to.sock[?db=N]`. The user name and password are
// percent-decoded (`p%40ss%3Aword` is `p@ss:word`), and the userinfo ends at
// the URL's last '@', so a password with '/', '?' or '@' cannot be mistaken
// for the host or the path.
//
// Secrets: every way of printing a config or an endpoint (to_string, and
// {fmt} through hotstate/redis/fmt.hpp)
// shows passwords as ***; a parse error never quotes the userinfo at all,
// whatever it holds, and quotes at most 64 bytes of any other part (a 1 MiB
// host gives a short message). A NUL byte in a host, user name, password or
// socket path is errc::configuration rather than a string hiredis would cut.
//
// TLS: `rediss://host:port` (or `tls.enabled`) speaks TLS through OpenSSL
// with the files of `tls` (redis/tls.hpp); hotstate's own streams do it, so
// hiredis's version does not matter. What this build cannot do is refused
// here, at configuration time, with errc::configuration: hiredis 0.14 parses
// RESP2 only, so protocol_version::resp3 is an error (decided from
// HIREDIS_MAJOR).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <hiredis/hiredis.h>

#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/base/print_fields.hpp>
#include <hotstate/detail/redis/proto/url_text.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/node_settings.hpp>
#include <hotstate/secret.hpp>

namespace hotstate::redis {

/// Settings of a standalone Redis server's connections and their pool.
struct config {
    /// `redis://[user[:password]@]host[:port][/db]` or `unix:///path/to.sock[?db=N]`;
    /// user and password percent-decoded (see parse_url).
    std::string url = "redis://127.0.0.1:6379";
    /// Timeouts, pool bounds, credentials, protocol, keep-alive, TLS.
    node_settings node{};
    /// Fence retention of the lock operations.
    lock_options locks{};
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
    /// TLS (tcp only): enabled by `rediss://` or the config's `tls.enabled`.
    tls_options tls{};

    /// "host:port" or the socket path: what error messages name.
    [[nodiscard]] std::string address() const {
        return type == kind::unix_socket ? path : detail::format_host_port(host, port);
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


/// Parses a Redis URL; throws errc::configuration naming the offending part.
/// Pure: no I/O. The message never quotes the userinfo (whatever it holds),
/// and quotes at most 64 bytes of any other part.
///
/// Credentials: the userinfo ends at the last '@' of the URL and the user name
/// at its first ':'. Both are percent-decoded (%40 is '@', %3A ':', %25 '%',
/// %2F '/'; '+' stays '+'), so a password may hold any byte but NUL: encode
/// '%' always, and ':' in a user name. '/', '?', '#' and '@' in a password
/// work unescaped too (the last '@' decides), but percent-encoding them is
/// what other clients expect. A NUL byte in the host, user name, password or
/// socket path is errc::configuration (hiredis would cut the string there).
[[nodiscard]] inline endpoint parse_url(std::string_view url) {
    namespace url_text = detail::redis::url_text;
    using url_text::config_error;
    using url_text::quote;
    const auto fail = [url](std::string_view why) {
        return config_error("URL '" + url_text::shown_in_error(url) + "': " + std::string(why));
    };

    const url_text::url_parts parts = url_text::split_url(url);
    if (!parts.scheme) throw fail("missing scheme (expected redis:// or unix://)");
    const std::string_view scheme = *parts.scheme;
    endpoint result;

    if (scheme == "rediss") result.tls.enabled = true;
    if (url_text::is_socket_scheme(scheme)) {
        result.type = endpoint::kind::unix_socket;
        const std::string_view rest = parts.rest;
        if (parts.userinfo || !rest.starts_with('/'))
            throw fail("socket path must be absolute (unix:///path/to.sock); credentials go in auth_username and "
                       "auth_secret");
        const auto query = rest.find('?');
        const std::string_view path = rest.substr(0, query);
        if (url_text::has_nul(path)) throw fail("socket path contains a NUL byte");
        if (path.size() > url_text::socket_path_limit)
            throw fail("socket path is longer than " + std::to_string(url_text::socket_path_limit) + " bytes");
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
                    const auto db = detail::parse_decimal<std::uint32_t>(value);
                    if (!db) throw fail("query parameter db='" + quote(value) + "' is not a database number");
                    result.db = *db;
                } else {
                    throw fail("unknown query parameter '" + quote(name) + "' (only db is understood)");
                }
            }
        }
        return result;
    }
    if (scheme != "redis" && scheme != "rediss")
        throw fail("unsupported scheme '" + quote(scheme) + "' (expected redis://, rediss:// or unix://)");

    if (parts.userinfo) {
        const std::string_view userinfo = *parts.userinfo;
        const auto colon = userinfo.find(':');
        const std::string_view raw_user = userinfo.substr(0, colon);
        // without this, "redis://host/2?x@other" would log in as user "host/2?x"
        if (raw_user.find_first_of("/?#") != std::string_view::npos)
            throw fail("user name contains '/', '?' or '#' (percent-encode them)");
        auto user = url_text::percent_decode(raw_user);
        if (!user) throw fail("user name has a malformed %-escape");
        if (url_text::has_nul(*user)) throw fail("user name contains a NUL byte");
        if (!user->empty()) result.username = std::move(*user);
        if (colon != std::string_view::npos) {
            auto password = url_text::percent_decode(userinfo.substr(colon + 1));
            if (!password) throw fail("password has a malformed %-escape");
            if (url_text::has_nul(*password)) throw fail("password contains a NUL byte");
            result.password = std::move(*password);
        }
    }

    const std::string_view rest = parts.rest;
    const auto authority_end = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, authority_end);
    std::string_view tail = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

    std::string_view host;
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) throw fail("IPv6 host is missing its closing ']'");
        host = authority.substr(1, close - 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') throw fail("unexpected text after the IPv6 host");
            port_text = after.substr(1);
            if (port_text.empty()) throw fail("empty port");
        }
    } else {
        const auto colon = authority.rfind(':');
        host = authority.substr(0, colon);
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) throw fail("empty port");
        }
    }
    if (host.empty()) throw fail("missing host");
    if (url_text::has_nul(host)) throw fail("host contains a NUL byte");
    if (host.size() > url_text::host_limit)
        throw fail("host is longer than " + std::to_string(url_text::host_limit) + " bytes");
    for (const char c : host)
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '/' || c == '@')
            throw fail("host contains an invalid character");
    result.host = std::string(host);
    if (!port_text.empty()) {
        const auto port = detail::parse_decimal<std::uint32_t>(port_text);
        if (!port || *port == 0 || *port > 65535)
            throw fail("port '" + quote(port_text) + "' is not a number in 1..65535");
        result.port = static_cast<std::uint16_t>(*port);
    }

    if (!tail.empty() && tail.front() == '/') {
        const auto query = tail.find('?');
        const std::string_view db_text = tail.substr(1, query == std::string_view::npos ? std::string_view::npos : query - 1);
        if (!db_text.empty()) {
            const auto db = detail::parse_decimal<std::uint32_t>(db_text);
            if (!db) throw fail("database '" + quote(db_text) + "' is not a number");
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
    namespace url_text = detail::redis::url_text;
    using url_text::config_error;
    const node_settings& node = settings.node;
    if (node.protocol == protocol_version::resp3) {
        if constexpr (!hiredis_has_resp3)
            throw config_error("protocol_version resp3 is not supported by this build's hiredis " + hiredis_version() +
                               " (RESP2 only; RESP3 needs hiredis >= 1.0)");
        else
            throw config_error("protocol_version resp3 is not implemented by hotstate's Redis backend yet");
    }
    if (node.pool_max_connections == 0 || node.pool_max_connections > max_pool_connections)
        throw config_error("pool_max_connections must be in 1.." + std::to_string(max_pool_connections));
    if (node.timeout.count() <= 0) throw config_error("timeout must be positive");
    if (node.pool_timeout_create.count() <= 0 || node.pool_timeout_wait.count() < 0 ||
        node.pool_timeout_recycle.count() < 0)
        throw config_error("pool timeouts must not be negative (and pool_timeout_create positive)");
    if (node.auth_username && url_text::has_nul(*node.auth_username))
        throw config_error("auth_username contains a NUL byte");
    if (node.auth_secret && url_text::has_nul(node.auth_secret->reveal()))
        throw config_error("auth_secret contains a NUL byte");
    endpoint result = parse_url(settings.url);
    if (node.auth_username) result.username = node.auth_username;
    if (node.auth_secret) result.password = node.auth_secret->reveal();
    const bool tls_from_url = result.tls.enabled;
    result.tls = node.tls;
    result.tls.enabled = node.tls.enabled || tls_from_url;
    if (result.tls.enabled && result.type == endpoint::kind::unix_socket)
        throw config_error("TLS is for TCP connections, not a Unix socket ('" + url_text::redact(settings.url) + "')");
    if (result.username && !result.password)
        throw config_error("auth_username is set without a password (auth_secret or the URL's)");
    return result;
}

/// The endpoint for logs: the password as ***; a user name without a
/// password as *** too (it is often a password written in the wrong place).
[[nodiscard]] inline std::string to_string(const endpoint& where) {
    namespace url_text = detail::redis::url_text;
    std::string out = where.type == endpoint::kind::unix_socket ? "unix://" : where.tls.enabled ? "rediss://" : "redis://";
    if (where.password) {
        if (where.username) out.append(url_text::quote(*where.username));
        out.append(":***@");
    } else if (where.username) {
        out.append("***@");
    }
    out.append(url_text::quote(where.address(), url_text::url_limit));
    if (where.type == endpoint::kind::unix_socket) {
        if (where.db != 0) out.append("?db=").append(std::to_string(where.db));
    } else if (where.db != 0) {
        out.append("/").append(std::to_string(where.db));
    }
    return out;
}

/// Whether `url` asks for TLS by its scheme (rediss://), as parse_url reads it.
[[nodiscard]] inline bool tls_in_url(std::string_view url) {
    return detail::redis::url_text::split_url(url).scheme == std::optional<std::string_view>("rediss");
}

/// The config for logs, from its field list: the URL's password and
/// auth_secret printed as ***, and `tls.enabled` as it takes effect (a
/// rediss:// URL turns it on, as resolve() does), not only as written.
[[nodiscard]] inline std::string to_string(const config& settings) {
    namespace url_text = detail::redis::url_text;
    config shown = settings;
    shown.node.tls.enabled = settings.node.tls.enabled || tls_in_url(settings.url);
    return detail::print_fields("redis", shown, url_text::shown_string);
}

}  // namespace hotstate::redis

BOOST_HANA_ADAPT_STRUCT(hotstate::redis::config, url, node, locks, connect_on_start);
