// hotstate/detail/redis/proto/errors.hpp: turning hiredis failures into hotstate::error.
//
// Pure classification (no I/O) so it is unit-tested: a server error reply maps
// to an errc by its leading code word, keeping the server's own message; an
// I/O failure maps to connection or timeout. Messages name the server address
// and the command, never key bytes or credentials.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include <hotstate/error.hpp>

namespace hotstate::detail::redis {

/// The errc of a Redis error reply, by its code word.
[[nodiscard]] constexpr errc classify_server_error(std::string_view message) noexcept {
    if (message.starts_with("WRONGTYPE")) return errc::wrong_type;
    if (message.starts_with("ERR value is not an integer")) return errc::wrong_type;
    if (message.starts_with("ERR increment or decrement would overflow")) return errc::invalid_argument;
    if (message.starts_with("OOM")) return errc::memory_limit;
    if (message.starts_with("NOAUTH") || message.starts_with("WRONGPASS") ||
        message.starts_with("ERR invalid password") || message.starts_with("ERR AUTH") ||
        message.starts_with("ERR Client sent AUTH"))
        return errc::authentication;
    if (message.starts_with("NOPERM")) return errc::authentication;
    if (message.starts_with("LOADING") || message.starts_with("BUSY") || message.starts_with("MASTERDOWN"))
        return errc::connection;
    return errc::server;
}

/// Whether an error reply means "this script is not loaded here".
[[nodiscard]] constexpr bool is_noscript(std::string_view message) noexcept { return message.starts_with("NOSCRIPT"); }

/// Whether an error reply says the server does not know the command: it ran
/// nothing, so another command may take its place.
[[nodiscard]] constexpr bool is_unknown_command(std::string_view message) noexcept {
    return message.starts_with("ERR unknown command");
}

/// "redis ADDRESS: COMMAND: " (the start of every message).
inline std::string context(std::string_view address, std::string_view command) {
    std::string text = "redis ";
    text.append(address).append(": ").append(command).append(": ");
    return text;
}

/// The error for a server's error reply; keeps the server's message.
[[nodiscard]] inline error server_error(std::string_view address, std::string_view command, std::string_view message) {
    return error(classify_server_error(message), context(address, command) + std::string(message));
}

/// The error for an I/O failure reported by hiredis (`hiredis_err`, `errstr`,
/// and errno as it was right after the call).
[[nodiscard]] inline error io_error(std::string_view address, std::string_view command, int hiredis_err,
                                   std::string_view errstr, int saved_errno) {
    constexpr int hiredis_err_io = 1;
    const bool timed_out =
        hiredis_err == hiredis_err_io && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT ||
                                          errstr.find("timed out") != std::string_view::npos ||
                                          errstr.find("temporarily unavailable") != std::string_view::npos);
    if (timed_out)
        return error(errc::timeout, context(address, command) + "no answer within the timeout (" + std::string(errstr) + ")");
    return error(errc::connection, context(address, command) + "connection failed: " + std::string(errstr));
}

}  // namespace hotstate::detail::redis
