#pragma once

#include <chrono>
#include <memory>

#include <hotstate/backends/memory.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/store.hpp>

/// Conformance fixture for the embedded backend on a manual clock.
struct memory_fixture {
    static constexpr bool expires_in_real_time = false;
    hotstate::manual_clock clock;

    template <class... Categories>
    auto make_store() {
        return std::make_unique<hotstate::store<hotstate::backends::basic_memory<hotstate::manual_clock>, Categories...>>(
            hotstate::backends::memory_config{}, clock);
    }
    void pass(std::chrono::milliseconds span) { clock.advance(span); }
    std::chrono::milliseconds short_ttl() const { return std::chrono::seconds{10}; }
};
