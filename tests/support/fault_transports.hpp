// Fault-injecting Transport decorators, for any transport model: a stand-in for
// a network that loses messages (lossy) and for a server that refuses sends
// for a while (flaky), so loss detection and retries are driven end to end
// over every transport.
//
//   hotstate::coordinator<lossy<transports::nats>, pings> sender(options, lossy(transport, {2, 3}));
#pragma once

#include <set>
#include <string_view>
#include <utility>

#include <hotstate/error.hpp>
#include <hotstate/transport.hpp>

namespace hotstate::testing {

/// Loses the sends whose 1-based numbers it is given (they never reach the inner transport).
template <Transport T>
class lossy {
public:
    static constexpr bool durable = T::durable;
    lossy(T inner, std::set<int> lose) : inner_(std::move(inner)), lose_(std::move(lose)) {}
    void send(std::string_view message) {
        if (!lose_.contains(++sends_)) inner_.send(message);
    }
    template <class Sink>
    void start(Sink& sink) { inner_.start(sink); }
    void stop() { inner_.stop(); }
    T& inner() noexcept { return inner_; }

private:
    T inner_;
    std::set<int> lose_;
    int sends_ = 0;  // send() is never called concurrently
};

/// Durable whatever the inner transport: its first `failures` sends throw
/// errc::connection "flaky: send refused", so the coordinator must retry them.
template <Transport T>
class flaky {
public:
    static constexpr bool durable = true;
    flaky(T inner, int failures) : inner_(std::move(inner)), failures_(failures) {}
    void send(std::string_view message) {
        if (failures_ > 0) {
            --failures_;
            throw error(errc::connection, "flaky: send refused");
        }
        inner_.send(message);
    }
    template <class Sink>
    void start(Sink& sink) { inner_.start(sink); }
    void stop() { inner_.stop(); }
    T& inner() noexcept { return inner_; }

private:
    T inner_;
    int failures_;  // send() is never called concurrently
};

}  // namespace hotstate::testing
