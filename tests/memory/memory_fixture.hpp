#pragma once

#include <chrono>
#include <memory>

#include <hotstate/backends/memory.hpp>
#include <hotstate/clock.hpp>

#include "laws/fixture.hpp"

/// Conformance fixture for the embedded backend on a manual clock.
struct memory_fixture : laws::manual_clock_only {
    template <class... Categories>
    auto make_store() {
        return store_on<hotstate::backends::basic_memory<hotstate::manual_clock>, Categories...>(
            hotstate::backends::memory_config{});
    }
};
