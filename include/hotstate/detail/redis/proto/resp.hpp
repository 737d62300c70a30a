// hotstate/detail/redis/proto/resp.hpp: RESP request encoding on the stack.
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
    static constexpr char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    std::size_t digits = 3;
    for (std::size_t bound = 1000; digits < 20 && value >= bound; bound *= 10) ++digits;
    char* end = out + digits;
    char* at = end;
    while (value >= 100) {
        const std::size_t pair = (value % 100) * 2;
        value /= 100;
        *--at = pairs[pair + 1];
        *--at = pairs[pair];
    }
    if (value >= 10) {
        *--at = pairs[value * 2 + 1];
        *--at = pairs[value * 2];
    } else {
        *--at = static_cast<char>('0' + value);
    }
    return end;
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
