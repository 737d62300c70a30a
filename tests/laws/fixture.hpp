// The clock every model's fixture keeps (laws/model.hpp): what `pass` moves,
// how soon a short TTL runs out, and the store made on that clock.
#pragma once

#include <chrono>
#include <memory>

#include <hotstate/clock.hpp>
#include <hotstate/store.hpp>

namespace laws {

/// A fixture's clock. `ServerTime`: keys expire by a server's own clock (in
/// real time, which the laws poll for) and only rate windows and leases read
/// `clock`; otherwise everything expires by `clock`, at once when it passes.
template <bool ServerTime>
struct fixture_clock {
    static constexpr bool expires_in_real_time = ServerTime;
    hotstate::manual_clock clock;

    /// Moves the clock on.
    void pass(std::chrono::milliseconds span) { clock.advance(span); }
    /// A TTL that has run out soon after pass(short_ttl()).
    [[nodiscard]] std::chrono::milliseconds short_ttl() const {
        return ServerTime ? std::chrono::milliseconds{150} : std::chrono::milliseconds{10'000};
    }
    /// A store of `Backend` made from `settings` and this clock.
    template <class Backend, class... Categories, class Settings>
    auto store_on(const Settings& settings) {
        return std::make_unique<hotstate::store<Backend, Categories...>>(settings, clock);
    }
};

/// A model on a server.
using server_clock = fixture_clock<true>;
/// A model keeping time by the manual clock alone (embedded, SQLite).
using manual_clock_only = fixture_clock<false>;

}  // namespace laws
