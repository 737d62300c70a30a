// The wrong scheme for a port, as a new user meets it: a plain client on a
// TLS-only port is reset at its first bytes, and a TLS client on a plain port
// gets no answer to its handshake. Either way the error comes without waiting
// out more than it must, and says which scheme the port likely wants.
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/tls.hpp>  // TLS support in this program
#include <hotstate/store.hpp>

#include "support/redis_settings.hpp"
#include "tls/tls_fixture.hpp"

using namespace std::chrono_literals;
using hotstate::errc;

namespace {

struct hits : hotstate::category<37, "port-hints", std::int64_t> {};

/// The error of one increment through a blocking store made with `settings`, and how long it took.
std::pair<hotstate::error, std::chrono::milliseconds> failure_of(const hotstate::redis::config& settings) {
    const auto began = std::chrono::steady_clock::now();
    try {
        hotstate::store<hotstate::backends::redis, hits> store(settings);
        (void)store.increment<hits>("n");
    } catch (const hotstate::error& e) {
        return {e, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began)};
    }
    FAIL("the operation succeeded");
    return {hotstate::error(errc::server, "unreachable"), {}};
}

}  // namespace

TEST_CASE("a plain redis:// client on a TLS-only port fails at the reset, suggesting rediss://", "[tls][hints]") {
    auto& server = shared_tls_server();
    hotstate::redis::config settings;
    settings.url = "redis://127.0.0.1:" + std::to_string(server.tls_port());
    settings.node = hotstate::testing::test_node(10s);
    const auto [e, took] = failure_of(settings);
    CHECK(e.kind() == errc::connection);
    CHECK_THAT(e.message(), Catch::Contains("rediss://"));
    CHECK(took < 5s);  // at the reset, not at the 10 s timeout
}

TEST_CASE("a rediss:// client on a plain port says so when the handshake gets no answer", "[tls][hints]") {
    auto& server = shared_tls_server();
    auto settings = tls_config_for(server.plain().port());
    settings.node = hotstate::testing::test_node(1s);
    settings.node.tls.ca_file = shared_tls_certs().ca();
    const auto [e, took] = failure_of(settings);
    CHECK(e.kind() == errc::timeout);
    CHECK_THAT(e.message(), Catch::Contains("TLS handshake") && Catch::Contains("plain-text") &&
                                Catch::Contains("redis://"));
    CHECK(took < 5s);
}
