// Conformance fixture for the Redis backend over TLS: one TLS redis-server per
// test binary (certificates made by tls_certs), flushed through its plain port
// before every test case; the store reaches it only by `rediss://`.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/backends/redis.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/redis/tls.hpp>  // TLS support in this program
#include <hotstate/store.hpp>

#include "laws/fixture.hpp"
#include "support/redis_server.hpp"
#include "support/redis_settings.hpp"
#include "support/tls_certs.hpp"

/// The certificates every test case of this binary shares.
inline const hotstate::testing::tls_certs& shared_tls_certs() {
    static const hotstate::testing::tls_certs certs;
    return certs;
}

/// The TLS server every test case of this binary shares.
inline hotstate::testing::redis_tls_server& shared_tls_server() {
    static hotstate::testing::redis_tls_server server(shared_tls_certs());
    return server;
}

/// A config reaching `port` over TLS, trusting the test CA, with short timeouts.
inline hotstate::redis::config tls_config_for(std::uint16_t port) {
    hotstate::redis::config settings;
    settings.url = "rediss://127.0.0.1:" + std::to_string(port);
    settings.node = hotstate::testing::test_node(std::chrono::seconds{5});
    settings.node.tls.ca_file = shared_tls_certs().ca();
    return settings;
}

/// The laws' fixture over `Backend` reaching the shared TLS server.
template <class Backend>
struct shared_tls_fixture : laws::server_clock {
    shared_tls_fixture() { shared_tls_server().plain().command({"FLUSHALL"}); }

    template <class... Categories>
    auto make_store() {
        return store_on<Backend, Categories...>(tls_config_for(shared_tls_server().tls_port()));
    }
    hotstate::testing::redis_server& node_of(std::string_view) { return shared_tls_server().plain(); }
    std::vector<hotstate::testing::redis_server*> masters() { return {&shared_tls_server().plain()}; }
};

struct redis_tls_fixture : shared_tls_fixture<hotstate::backends::basic_redis<hotstate::manual_clock>> {};
