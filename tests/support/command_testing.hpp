// Helpers for tests of command values (detail/redis/proto/commands.hpp and the queue's):
// the bytes a command writes, a reply parsed from RESP text as the connection
// parses it, and the hotstate::error a body throws.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>

#include <hotstate/error.hpp>
#include <hotstate/redis/connection.hpp>

#include "support/errors.hpp"

namespace hotstate::testing {

/// The reply `resp` encodes, parsed as the connection parses replies.
inline ::hotstate::redis::reply parse(std::string_view resp) {
    ::hotstate::detail::redis::reply_reader reader;
    REQUIRE(reader.feed(resp.data(), resp.size()));
    ::hotstate::redis::reply parsed;
    REQUIRE(reader.next(parsed));
    REQUIRE(parsed);
    return parsed;
}

/// The request `command` writes.
template <class C>
std::string bytes_of(const C& command) {
    std::string out;
    command.write(out);
    return out;
}

/// The request `command` writes in place of its first (EVAL for a script).
template <class C>
std::string fallback_bytes_of(const C& command) {
    std::string out;
    command.write_fallback(out);
    return out;
}

}  // namespace hotstate::testing
