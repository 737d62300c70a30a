// hotstate/detail/redis/proto/url_text.hpp: how Redis URLs and configuration text
// appear in messages and logs: split into scheme, userinfo and the rest (the
// userinfo ends at the last '@'), passwords masked, every quoted part bounded
// and escaped. Pure functions; the URL parser (redis/config.hpp) and every
// printer of a config use them, so no printer can show a secret another hides.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <sys/un.h>

#include <hotstate/error.hpp>

namespace hotstate::detail::redis::url_text {


[[nodiscard]] inline error config_error(std::string_view what) {
    return error(errc::configuration, "hotstate: redis configuration: " + std::string(what));
}

/// Most bytes of one piece of user input (a port, a scheme, a name) a message quotes.
inline constexpr std::size_t quote_limit = 64;
/// Most bytes of a URL's host, path and query a message or to_string shows.
inline constexpr std::size_t url_limit = 128;
/// Longest host name: DNS names are at most 253 bytes (255 on the wire).
inline constexpr std::size_t host_limit = 255;
/// Longest socket path: sun_path holds it with its terminating NUL.
inline constexpr std::size_t socket_path_limit = sizeof(sockaddr_un{}.sun_path) - 1;

/// `text` as a message may show it: at most `limit` bytes (then "..."), and
/// every byte that is not printable ASCII as \xNN, so neither a huge input nor
/// control characters reach a log line; bytes in `also_escaped` (a quote
/// character the caller wraps the text in) are escaped too.
[[nodiscard]] inline std::string quote(std::string_view text, std::size_t limit = quote_limit,
                                       std::string_view also_escaped = {}) {
    constexpr char digits[] = "0123456789abcdef";
    const std::size_t shown = text.size() < limit ? text.size() : limit;
    std::string out;
    out.reserve(shown + 3);
    for (std::size_t i = 0; i < shown; ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte < 0x7f && also_escaped.find(text[i]) == std::string_view::npos) {
            out.push_back(text[i]);
        } else {
            out.append("\\x");
            out.push_back(digits[byte >> 4]);
            out.push_back(digits[byte & 15]);
        }
    }
    if (text.size() > limit) out.append("...");
    return out;
}

inline int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// Decodes %XX escapes (user names and passwords may contain '@' or ':').
/// '+' stays '+': this is a URL's userinfo, not a form.
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

/// RFC 3986 scheme: a letter, then letters, digits, '+', '-' or '.'.
[[nodiscard]] constexpr bool is_scheme_name(std::string_view text) noexcept {
    const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (text.empty() || !letter(text.front())) return false;
    for (const char c : text)
        if (!letter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return false;
    return true;
}

[[nodiscard]] constexpr bool is_socket_scheme(std::string_view scheme) noexcept {
    return scheme == "unix" || scheme == "redis+unix";
}

/// A URL cut into the pieces the parser and every printer agree on.
struct url_parts {
    /// The text before "://" when it is a valid scheme name; otherwise the
    /// whole URL is treated as scheme-less, so a password that happens to
    /// contain "://" is never mistaken for (and quoted as) a scheme.
    std::optional<std::string_view> scheme;
    /// Everything before the *last* '@': a password may hold '/', '?', '#'
    /// or '@' unescaped and still never be read as host, port or path.
    std::optional<std::string_view> userinfo;
    /// Host, port, path and query (or a socket path and its query).
    std::string_view rest;
};

[[nodiscard]] constexpr url_parts split_url(std::string_view url) noexcept {
    url_parts parts;
    std::string_view body = url;
    if (const auto end = url.find("://"); end != std::string_view::npos && is_scheme_name(url.substr(0, end))) {
        parts.scheme = url.substr(0, end);
        body = url.substr(end + 3);
    }
    // an '@' in an absolute socket path is part of a file name, not a login
    const bool socket_path = parts.scheme && is_socket_scheme(*parts.scheme) && body.starts_with('/');
    if (const auto at = body.rfind('@'); !socket_path && at != std::string_view::npos) {
        parts.userinfo = body.substr(0, at);
        body = body.substr(at + 1);
    }
    parts.rest = body;
    return parts;
}

/// `rest` (host, port, path, query) for display: query values other than
/// db's as ***, bounded, non-printable bytes escaped.
[[nodiscard]] inline std::string shown_rest(std::string_view rest) {
    const auto query = rest.find('?');
    if (query == std::string_view::npos) return quote(rest, url_limit);
    std::string masked(rest.substr(0, query + 1));
    std::string_view parameters = rest.substr(query + 1);
    for (bool first = true; !parameters.empty() && masked.size() <= url_limit; first = false) {
        const auto amp = parameters.find('&');
        const std::string_view item = parameters.substr(0, amp);
        parameters = amp == std::string_view::npos ? std::string_view{} : parameters.substr(amp + 1);
        const auto eq = item.find('=');
        if (!first) masked.push_back('&');
        masked.append(item.substr(0, eq));
        if (eq != std::string_view::npos) masked.append(item.substr(0, eq) == "db" ? item.substr(eq) : "=***");
    }
    if (!parameters.empty()) masked.append("&...");
    return quote(masked, url_limit);
}

/// The URL as an error message quotes it: the userinfo, whatever it holds,
/// as ***, so no mistake in a URL can put any part of a password in a log.
[[nodiscard]] inline std::string shown_in_error(std::string_view url) {
    const url_parts parts = split_url(url);
    std::string out;
    if (parts.scheme) out.append(quote(*parts.scheme)).append("://");
    if (parts.userinfo) out.append("***@");
    out.append(shown_rest(parts.rest));
    return out;
}

/// Whether a URL's raw user name is shown by to_string: only plain names
/// (RFC 3986 unreserved and sub-delimiter characters, %-escapes), and only
/// when a ':' separates it from a password, so that `redis://secret@host`
/// (a password written where the user name goes) stays masked too.
[[nodiscard]] constexpr bool is_plain_user_name(std::string_view name) noexcept {
    constexpr std::string_view allowed = "-._~!$&'()*+,;=%";
    for (const char c : name)
        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
            allowed.find(c) == std::string_view::npos)
            return false;
    return true;
}

/// The URL with its password replaced by ***, for to_string and messages
/// about a URL that did parse. Any userinfo that is not `plain-user:password`
/// is masked whole.
[[nodiscard]] inline std::string redact(std::string_view url) {
    const url_parts parts = split_url(url);
    std::string out;
    if (parts.scheme) out.append(quote(*parts.scheme)).append("://");
    if (parts.userinfo) {
        const auto colon = parts.userinfo->find(':');
        const std::string_view user = parts.userinfo->substr(0, colon);
        if (colon != std::string_view::npos && is_plain_user_name(user))
            out.append(quote(user)).append(":***@");
        else
            out.append("***@");
    }
    out.append(shown_rest(parts.rest));
    return out;
}

/// How the field-list printer shows a config's strings: anything that may be
/// a URL with credentials (a "://" or an '@' anywhere, so a URL without its
/// scheme too) as redact shows it, its password as ***; other text (a user or
/// service name, a file path) quoted. Both bounded and escaped.
[[nodiscard]] inline std::string shown_string(std::string_view text) {
    const bool url_like = text.find("://") != std::string_view::npos || text.find('@') != std::string_view::npos;
    return url_like ? redact(text) : quote(text);
}

[[nodiscard]] inline bool has_nul(std::string_view text) noexcept { return text.find('\0') != std::string_view::npos; }

}  // namespace hotstate::detail::redis::url_text
