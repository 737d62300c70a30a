// backends::async_redis over TLS (rediss://, Asio's ssl::stream on the
// engine's loaded TLS settings) against a TLS-only redis-server the test
// starts: the store's laws through the blocking adapter,
// 256 coroutines pipelined over one TLS connection, and the refusals (wrong
// CA, wrong server name, missing client certificate) failing at once with
// errc::connection / errc::authentication naming the cause.
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <tuple>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>

#include "async/async_blocking_adapter.hpp"
#include "laws/model.hpp"
#include "support/tls_certs.hpp"
#include "tls/tls_fixture.hpp"

struct async_redis_tls_fixture : shared_tls_fixture<hotstate::testing::async_blocking_adapter<hotstate::manual_clock>> {};

using hotstate_law_models = std::tuple<laws::model<async_redis_tls_fixture, laws::store_capabilities, laws::differential>>;
#include "laws/store.hpp"

namespace {
namespace asio = boost::asio;
using hotstate::errc;
using namespace std::chrono_literals;

struct hits : hotstate::category<50, "tls-hits", std::int64_t> {};
using async_store = hotstate::async_store<hotstate::backends::async_redis, hits>;

/// Runs `io` until `done` is ready; its value or its exception.
template <class T>
T wait(asio::io_context& io, std::future<T>& done) {
    while (done.wait_for(0s) != std::future_status::ready) io.run_one();
    return done.get();
}

/// The hotstate::error of one increment through a store made with `settings` (none: FAIL).
hotstate::error refusal(const hotstate::redis::config& settings) {
    asio::io_context io;
    async_store store(io.get_executor(), settings, hotstate::redis::async_options{.timeout = 5s});
    auto done = store.async_increment<hits>("n", 1, std::nullopt, asio::use_future);
    try {
        wait(io, done);
    } catch (const hotstate::error& e) {
        return e;
    }
    FAIL("the operation succeeded");
    return hotstate::error(errc::server, "unreachable");
}
}  // namespace

TEST_CASE("async_redis over TLS: 256 coroutines pipelined on one TLS connection", "[async][tls]") {
    auto& server = shared_tls_server();
    server.plain().command({"FLUSHALL"});
    asio::io_context io;
    async_store store(io.get_executor(), tls_config_for(server.tls_port()));
    constexpr int callers = 256, rounds = 20;
    int finished = 0;
    for (int i = 0; i < callers; ++i)
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                for (int r = 0; r < rounds; ++r) co_await store.async_increment<hits>("shared", 1, std::nullopt, asio::use_awaitable);
                ++finished;
            },
            asio::detached);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (finished < callers && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
    REQUIRE(finished == callers);
    auto total = store.async_counter<hits>("shared", asio::use_future);
    CHECK(wait(io, total) == callers * rounds);
    CHECK(store.backend().connects() == 1);
}

TEST_CASE("async_redis over TLS: refusals fail at once, naming the cause", "[async][tls]") {
    auto& server = shared_tls_server();
    SECTION("a CA that did not sign the server's certificate") {
        auto settings = tls_config_for(server.tls_port());
        settings.node.tls.ca_file = shared_tls_certs().other_ca();
        const auto e = refusal(settings);
        CHECK(e.code() == errc::connection);
        CHECK_THAT(e.message(), Catch::Contains("certificate verify failed") && Catch::Contains("not signed by a CA in") &&
                                    Catch::Contains(shared_tls_certs().other_ca()));
    }
    SECTION("a server name the certificate does not carry") {
        auto settings = tls_config_for(server.tls_port());
        settings.node.tls.server_name = "wrong.example";
        const auto e = refusal(settings);
        CHECK(e.code() == errc::connection);
        CHECK_THAT(e.message(), Catch::Contains("certificate verify failed") && Catch::Contains("'wrong.example'"));
    }
    SECTION("the TLS port spoken to in plain text: refused at the reset, suggesting rediss://") {
        auto settings = tls_config_for(server.tls_port());
        settings.url = "redis://127.0.0.1:" + std::to_string(server.tls_port());
        const auto began = std::chrono::steady_clock::now();
        const auto e = refusal(settings);
        CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds{4});  // not the 5 s timeout
        CHECK(e.code() == errc::connection);
        CHECK_THAT(e.message(), Catch::Contains("rediss://"));
        CHECK_THAT(e.message(), !Catch::Contains("hotstate: hotstate:") && !Catch::Contains("hotstate: async redis"));
    }
    SECTION("the plain port spoken to with TLS") {
        // a plain-text server reads the hello as a command and waits for more: no answer
        // comes, so the handshake runs out its time, and the error says what is likely wrong
        auto settings = tls_config_for(server.plain().port());
        const auto e = refusal(settings);
        CHECK(e.code() == errc::timeout);
        CHECK_THAT(e.message(), Catch::Contains("TLS handshake") && Catch::Contains("plain-text") &&
                                    Catch::Contains("redis://"));
    }
    SECTION("a bad CA file is a configuration error at construction") {
        auto settings = tls_config_for(server.tls_port());
        settings.node.tls.ca_file = "/nonexistent/ca.pem";
        asio::io_context io;
        try {
            async_store store(io.get_executor(), settings);
            FAIL("constructed");
        } catch (const hotstate::error& e) {
            CHECK(e.code() == errc::configuration);
            CHECK_THAT(e.message(), Catch::Contains("/nonexistent/ca.pem"));
        }
    }
}

TEST_CASE("async_redis over TLS: a server that wants client certificates", "[async][tls]") {
    hotstate::testing::redis_tls_server mutual(shared_tls_certs(), {.auth_clients = true});
    SECTION("with the client certificate") {
        auto settings = tls_config_for(mutual.tls_port());
        settings.node.tls.cert_file = shared_tls_certs().client_cert();
        settings.node.tls.key_file = shared_tls_certs().client_key();
        asio::io_context io;
        async_store store(io.get_executor(), settings);
        auto done = store.async_increment<hits>("m", 5, std::nullopt, asio::use_future);
        CHECK(wait(io, done) == 5);
    }
    SECTION("without one: errc::authentication saying so") {
        const auto e = refusal(tls_config_for(mutual.tls_port()));
        CHECK(e.code() == errc::authentication);
        CHECK_THAT(e.message(), Catch::Contains("requires a client certificate"));
        const std::string key = shared_tls_certs().read(shared_tls_certs().client_key());
        CHECK(e.message().find("PRIVATE KEY") == std::string::npos);
        CHECK(e.message().find(key.substr(40, 40)) == std::string::npos);
    }
}
