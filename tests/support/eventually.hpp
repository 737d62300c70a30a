// Waiting on a condition with a deadline: the only way tests wait.
#pragma once

#include <chrono>
#include <thread>

namespace hotstate::testing {

/// Polls `condition` until it holds or `deadline` passes; returns the last answer.
template <class Condition>
bool eventually(Condition&& condition, std::chrono::milliseconds deadline = std::chrono::seconds{10}) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= until) return condition();
        std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::milliseconds{2});  // poll interval, not synchronisation
    }
}

}  // namespace hotstate::testing
