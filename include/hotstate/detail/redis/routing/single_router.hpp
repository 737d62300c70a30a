// hotstate/detail/redis/routing/single_router.hpp: the Router of the standalone Redis
// backend: every command goes to one server, through one pool.
//
// No slot, no redirect: the pool runs the exchange's attempts (a dead idle
// connection is replaced before use; a request is sent again once, on a fresh
// connection, when the exchange allows it), and every error reply is the usual
// hotstate::error (follows_redirects is false, so the exchange delivers error
// replies to the command). The hot path is the pool's run() and nothing else.
#pragma once

#include <string_view>
#include <utility>

#include <hotstate/detail/redis/routing/router_support.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::redis::routing {

/// Routes every command to the one pool of a standalone server.
class single_router {
public:
    using config_type = ::hotstate::redis::config;
    using connection = ::hotstate::redis::connection;
    /// An error reply is final here: there is nowhere else to send the command.
    static constexpr bool follows_redirects = false;
    /// Every key lives on the one server (multi-key commands are fine).
    static constexpr bool one_node = true;

    /// Validates `settings` (errc::configuration) and prepares the pool; connects to nothing yet.
    explicit single_router(config_type settings)
        : settings_(std::move(settings)),
          pool_(::hotstate::redis::resolve(settings_), ::hotstate::redis::pool_options::from(settings_),
                &load_scripts) {}

    single_router(const single_router&) = delete;
    single_router& operator=(const single_router&) = delete;

    /// The configuration it was built from.
    [[nodiscard]] const config_type& settings() const noexcept { return settings_; }
    /// The connection pool.
    [[nodiscard]] ::hotstate::redis::pool& pool() noexcept { return pool_; }

    /// The retry budget of every request: one retry, on a fresh connection.
    [[nodiscard]] static constexpr ::hotstate::redis::retry_policy retry_budget() noexcept { return proto::one_retry(); }

    /// Runs attempts of exchange `ex` on pooled connections until one gives an
    /// outcome (the pool's run(): a retry on a fresh connection when the
    /// exchange allows one). The key does not matter.
    template <std::size_t N, class Attempt>
    [[gnu::always_inline]] inline decltype(auto) execute(std::string_view, access, proto::exchange<N, false>& ex,
                                                         std::string_view, Attempt&& attempt) {
        return pool_.run(ex, attempt);
    }

    /// Runs `body(connection&)`, a body that writes and reads by itself, as a
    /// request of effect `E` (redis::once or redis::idempotent).
    template <::hotstate::redis::effect E, class Body>
    decltype(auto) execute(std::string_view, access, ::hotstate::redis::effect_tag<E> effect, std::string_view,
                           Body&& body) {
        return pool_.run(effect, std::forward<Body>(body));
    }

    /// execute() of a body that must not run twice (redis::once).
    template <class Body>
    decltype(auto) execute(std::string_view key, access mode, std::string_view command, Body&& body) {
        return execute(key, mode, ::hotstate::redis::once, command, std::forward<Body>(body));
    }

    /// Runs `body` on the server (there is one). Fan-out bodies (PING, SCAN +
    /// UNLINK) are idempotent in effect.
    template <class Body>
    void for_each_master(std::string_view, Body&& body) {
        pool_.run(::hotstate::redis::idempotent, std::forward<Body>(body));
    }

private:
    config_type settings_;
    ::hotstate::redis::pool pool_;
};

static_assert(Router<single_router>);

}  // namespace hotstate::detail::redis::routing
