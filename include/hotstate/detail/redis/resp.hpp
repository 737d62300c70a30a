// hotstate/detail/redis/resp.hpp: RESP request encoding on the stack.
//
// hiredis formats every argv command into a freshly allocated sds string
// with sdscatfmt (two allocations and a generic printf-like loop per
// command). A command is just `*N\r\n` then `$len\r\narg\r\n` per argument,
// so hotstate writes it into a stack buffer (or the connection's output
// buffer for pipelines and big values) and sends it itself: same wire bytes,
// no allocation per command.
#pragma once

#include <cstddef>
#include <cstring>

namespace hotstate::detail::redis {

/// Space to reserve beyond the argument bytes: `*N\r\n` plus `$len\r\n` and
/// `\r\n` per argument, with 20 digits for any size_t.
[[nodiscard]] constexpr std::size_t resp_overhead(std::size_t argc) noexcept { return 23 + argc * 25; }

/// Writes `value` in decimal at `out`; returns the end.
inline char* write_decimal(char* out, std::size_t value) noexcept {
    // command names, keys and small values have one- or two-digit lengths
    if (value < 10) {
        *out = static_cast<char>('0' + value);
        return out + 1;
    }
    if (value < 100) {
        out[0] = static_cast<char>('0' + value / 10);
        out[1] = static_cast<char>('0' + value % 10);
        return out + 2;
    }
    char digits[20];
    std::size_t n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n != 0) *out++ = digits[--n];
    return out;
}

/// Encodes a command as a RESP array of bulk strings at `out`, which must hold
/// resp_overhead(argc) + the sum of `lengths`; returns the bytes written.
inline std::size_t format_command(char* out, std::size_t argc, const char* const* argv,
                                  const std::size_t* lengths) noexcept {
    char* at = out;
    *at++ = '*';
    at = write_decimal(at, argc);
    *at++ = '\r';
    *at++ = '\n';
    for (std::size_t i = 0; i < argc; ++i) {
        *at++ = '$';
        at = write_decimal(at, lengths[i]);
        *at++ = '\r';
        *at++ = '\n';
        if (lengths[i] != 0) std::memcpy(at, argv[i], lengths[i]);
        at += lengths[i];
        *at++ = '\r';
        *at++ = '\n';
    }
    return static_cast<std::size_t>(at - out);
}

}  // namespace hotstate::detail::redis
