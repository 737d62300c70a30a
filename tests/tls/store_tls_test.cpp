// The Redis backend over TLS through the store: `rediss://` and the config's
// tls fields reach a TLS-only port; a wrong CA, an expired certificate, a
// wrong server name and a missing client certificate each fail with
// errc::connection or errc::authentication naming the cause (never a key).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <hotstate/backends/redis.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/tls.hpp>  // TLS support in this program
#include <hotstate/store.hpp>

#include "support/command_testing.hpp"
#include "support/tls_certs.hpp"
#include "tls/tls_fixture.hpp"

namespace {

using hotstate::errc;
using hotstate::testing::error_of;
using hotstate::testing::redis_tls_server;
using namespace std::chrono_literals;

struct hits : hotstate::category<1, "hits", std::int64_t> {};
using tls_store = hotstate::store<hotstate::backends::redis, hits>;

const hotstate::testing::tls_certs& certs() { return shared_tls_certs(); }

/// Nothing of a key file in a message.
void check_no_key(const hotstate::error& e) {
    const std::string key = certs().read(certs().client_key());
    REQUIRE(key.size() > 100);
    CHECK(e.message().find(key.substr(40, 40)) == std::string::npos);
    CHECK(e.message().find("PRIVATE KEY") == std::string::npos);
}

}  // namespace

TEST_CASE("tls store: rediss:// and the tls fields reach a TLS-only port", "[tls][store]") {
    redis_tls_server server(certs());
    SECTION("rediss:// turns TLS on") {
        tls_store store(tls_config_for(server.tls_port()));
        CHECK(store.increment<hits>("n") == 1);
        CHECK(store.increment<hits>("n") == 2);
    }
    SECTION("tls.enabled with a redis:// URL, and a client certificate the server does not need") {
        auto settings = tls_config_for(server.tls_port());
        settings.url = "redis://127.0.0.1:" + std::to_string(server.tls_port());
        settings.node.tls.enabled = true;
        settings.node.tls.cert_file = certs().client_cert();
        settings.node.tls.key_file = certs().client_key();
        tls_store store(settings);
        CHECK(store.increment<hits>("m", 5) == 5);
    }
    SECTION("the same port without TLS does not answer as Redis") {
        auto settings = tls_config_for(server.tls_port());
        settings.url = "redis://127.0.0.1:" + std::to_string(server.tls_port());
        settings.node.timeout = 500ms;
        tls_store store(settings);
        const auto failure = error_of([&] { (void)store.increment<hits>("x"); });
        CHECK((failure.kind() == errc::connection || failure.kind() == errc::timeout));
    }
}

TEST_CASE("tls store: mutual TLS with the client certificate", "[tls][store]") {
    redis_tls_server server(certs(), {.auth_clients = true});
    auto settings = tls_config_for(server.tls_port());
    settings.node.tls.cert_file = certs().client_cert();
    settings.node.tls.key_file = certs().client_key();
    tls_store store(settings);
    CHECK(store.increment<hits>("n") == 1);
    CHECK(server.plain().command({"DBSIZE"})->integer == 1);  // it reached this server
}

TEST_CASE("tls store: failures name their cause", "[tls][store][errors]") {
    SECTION("a wrong CA") {
        redis_tls_server server(certs());
        auto settings = tls_config_for(server.tls_port());
        settings.node.tls.ca_file = certs().other_ca();
        tls_store store(settings);
        const auto failure = error_of([&] { (void)store.increment<hits>("n"); });
        CHECK(failure.kind() == errc::connection);
        CHECK_THAT(failure.message(), Catch::Contains(server.tls_address()));
        CHECK_THAT(failure.message(), Catch::Contains("certificate verify failed"));
        check_no_key(failure);
    }
    SECTION("an expired certificate") {
        redis_tls_server server(certs(), {.cert_file = certs().expired_server_cert()});
        tls_store store(tls_config_for(server.tls_port()));
        const auto failure = error_of([&] { (void)store.increment<hits>("n"); });
        CHECK(failure.kind() == errc::connection);
        CHECK_THAT(failure.message(), Catch::Contains("certificate has expired"));
    }
    SECTION("a wrong server name") {
        redis_tls_server server(certs());
        auto settings = tls_config_for(server.tls_port());
        settings.node.tls.server_name = "wrong.example.com";
        tls_store store(settings);
        const auto failure = error_of([&] { (void)store.increment<hits>("n"); });
        CHECK(failure.kind() == errc::connection);
        CHECK_THAT(failure.message(), Catch::Contains("hostname mismatch"));
        CHECK_THAT(failure.message(), Catch::Contains("wrong.example.com"));
    }
    SECTION("a server that demands a client certificate the config lacks") {
        redis_tls_server server(certs(), {.auth_clients = true});
        tls_store store(tls_config_for(server.tls_port()));
        const auto failure = error_of([&] { (void)store.increment<hits>("n"); });
        CHECK(failure.kind() == errc::authentication);
        CHECK_THAT(failure.message(), Catch::Contains("the server requires a client certificate and none is configured"));
    }
    SECTION("a key file that does not exist is a configuration error at construction") {
        auto settings = tls_config_for(6379);
        settings.node.tls.cert_file = certs().client_cert();
        settings.node.tls.key_file = (certs().dir() / "missing.key").string();
        const auto failure = error_of([&] { tls_store store(settings); });
        CHECK(failure.kind() == errc::configuration);
        CHECK_THAT(failure.message(), Catch::Contains("missing.key"));
    }
    SECTION("TLS over a Unix socket is a configuration error") {
        auto settings = tls_config_for(6379);
        settings.url = "unix:///tmp/redis.sock";
        settings.node.tls.enabled = true;
        const auto failure = error_of([&] { tls_store store(settings); });
        CHECK(failure.kind() == errc::configuration);
        CHECK_THAT(failure.message(), Catch::Contains("Unix socket"));
    }
}
