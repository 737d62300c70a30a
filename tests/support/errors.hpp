// The hotstate::error a piece of a test throws: the one helper for a test
// that expects one and then looks at its kind and message.
#pragma once

#include <catch2/catch.hpp>

#include <hotstate/error.hpp>

namespace hotstate::testing {

/// The hotstate::error `body` throws; fails the test when it throws none.
template <class Body>
::hotstate::error error_of(Body&& body) {
    try {
        body();
    } catch (const ::hotstate::error& e) {
        return e;
    }
    FAIL("no hotstate::error was thrown");
    return ::hotstate::error(::hotstate::errc::server, "unreachable");
}

}  // namespace hotstate::testing
