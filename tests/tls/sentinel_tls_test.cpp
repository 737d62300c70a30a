// The Redis Sentinel backend over TLS: sentinels and data servers listen on
// TLS ports, the replica replicates over TLS and the sentinels monitor the
// master over TLS (`tls-replication yes`); the client asks the sentinels over
// TLS (`rediss://` sentinel URLs) and speaks TLS to the master (`tls.enabled`).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include <hotstate/backends/redis_sentinel.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/detail/redis/io/tls_stream.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/tls.hpp>  // TLS support in this program
#include <hotstate/store.hpp>

#include "support/redis_sentinel.hpp"
#include "support/tls_certs.hpp"

namespace {

struct text : hotstate::category<72, "tls-sentinel-text"> {};
struct hits : hotstate::category<73, "tls-sentinel-hits", std::int64_t> {};
using store_type = hotstate::store<hotstate::backends::redis_sentinel, text, hits>;

/// Sentinels and servers that speak TLS only, with certificates made here.
struct tls_sentinels {
    const hotstate::testing::tls_certs certs;
    hotstate::testing::redis_sentinel setup{options()};

    hotstate::testing::redis_sentinel_options options() const {
        hotstate::testing::redis_sentinel_options tls_only;
        tls_only.tls = hotstate::testing::redis_sentinel_options::tls_files{certs.ca(), certs.server_cert(), certs.server_key()};
        return tls_only;
    }
    /// The service and the sentinels' URLs; the node's TLS is the caller's to set.
    hotstate::redis::sentinel_config settings() const {
        hotstate::redis::sentinel_config settings;
        settings.service_name = setup.service_name();
        settings.sentinel_urls = setup.sentinel_urls();
        return settings;
    }
};

}  // namespace

TEST_CASE("tls sentinel: the master found and used over TLS", "[tls][sentinel]") {
    tls_sentinels fixture;
    auto& setup = fixture.setup;
    auto settings = fixture.settings();
    REQUIRE(settings.sentinel_urls.front().starts_with("rediss://"));
    settings.node.tls.enabled = true;
    settings.node.tls.ca_file = fixture.certs.ca();
    settings.node.timeout = std::chrono::seconds{5};
    const auto contexts_before = hotstate::detail::redis::tls_context::load_count();
    store_type store(settings);

    store.set<text>("a", "over TLS");
    CHECK(store.get<text>("a") == "over TLS");
    for (int i = 0; i < 20; ++i) CHECK(store.increment<hits>("n") == i + 1);
    // it went to the master the sentinels name (its TLS port), seen on its plain port
    auto* master = setup.server_on(setup.master_port());
    REQUIRE(master != nullptr);
    CHECK(master == &setup.master());
    CHECK(master->command({"DBSIZE"})->integer == 2);
    // the sentinel queries and the master's connections share one TLS context: files read once
    CHECK(hotstate::detail::redis::tls_context::load_count() - contexts_before == 1);
}

TEST_CASE("tls sentinel: a master without TLS settings fails naming the cause", "[tls][sentinel][errors]") {
    tls_sentinels fixture;
    auto settings = fixture.settings();
    settings.node.tls.ca_file = fixture.certs.other_ca();  // the sentinels' certificates are not signed by it
    settings.node.timeout = std::chrono::seconds{2};
    settings.retry.max_retries = 1;
    store_type store(settings);
    try {
        store.set<text>("a", "x");
        FAIL("a sentinel with an untrusted certificate was used");
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::connection);
        CHECK_THAT(e.message(), Catch::Contains("certificate verify failed"));
    }
}
