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

/// What a decorator passes through to the transport it wraps.
template <Transport T>
class decorated {
public:
    template <class Sink>
    void start(Sink& sink) { inner_.start(sink); }
    void stop() { inner_.stop(); }
    T& inner() noexcept { return inner_; }

protected:
    explicit decorated(T inner) : inner_(std::move(inner)) {}
    T inner_;
};

/// Loses the sends whose 1-based numbers it is given (they never reach the inner transport).
template <Transport T>
class lossy : public decorated<T> {
public:
    static constexpr bool durable = T::durable;
    lossy(T inner, std::set<int> lose) : decorated<T>(std::move(inner)), lose_(std::move(lose)) {}
    void send(std::string_view message) {
        if (!lose_.contains(++sends_)) this->inner_.send(message);
    }

private:
    std::set<int> lose_;
    int sends_ = 0;  // send() is never called concurrently
};

/// Durable whatever the inner transport: its first `failures` sends throw
/// errc::connection "flaky: send refused", so the coordinator must retry them.
template <Transport T>
class flaky : public decorated<T> {
public:
    static constexpr bool durable = true;
    flaky(T inner, int failures) : decorated<T>(std::move(inner)), failures_(failures) {}
    void send(std::string_view message) {
        if (failures_ > 0) {
            --failures_;
            throw error(errc::connection, "flaky: send refused");
        }
        this->inner_.send(message);
    }

private:
    int failures_;  // send() is never called concurrently
};

}  // namespace hotstate::testing
