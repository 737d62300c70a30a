// The Redis Cluster backend over TLS: a 3-master/3-replica cluster whose bus
// and replication speak TLS (`tls-cluster yes`, `tls-replication yes`),
// created with `redis-cli --tls --cluster create`, reached by `rediss://`
// seeds. CLUSTER SLOTS over TLS names TLS ports, so every node the client
// learns is reached over TLS too.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/detail/redis/io/tls_stream.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/tls.hpp>  // TLS support in this program
#include <hotstate/store.hpp>

#include "support/redis_cluster.hpp"
#include "support/tls_certs.hpp"

namespace {

struct text : hotstate::category<70, "tls-cluster-text"> {};
struct hits : hotstate::category<71, "tls-cluster-hits", std::int64_t> {};
using store_type = hotstate::store<hotstate::backends::redis_cluster, text, hits>;

}  // namespace

TEST_CASE("tls cluster: every node over TLS, keys on every master, counters exact", "[tls][cluster]") {
    const hotstate::testing::tls_certs certs;
    hotstate::testing::redis_cluster_options options;
    options.tls = hotstate::testing::redis_cluster_options::tls_files{certs.ca(), certs.server_cert(), certs.server_key(),
                                                                        certs.client_cert(), certs.client_key()};
    hotstate::testing::redis_cluster cluster(options);

    hotstate::redis::cluster_config settings;
    settings.urls = {cluster.seed_urls().front()};  // one seed: the rest is learned over TLS
    REQUIRE(settings.urls.front().starts_with("rediss://"));
    settings.node.tls.ca_file = certs.ca();
    settings.node.timeout = std::chrono::seconds{5};
    const auto contexts_before = hotstate::detail::redis::tls_context::load_count();
    store_type store(settings);

    for (int i = 0; i < 200; ++i) store.set<text>("k" + std::to_string(i), "v" + std::to_string(i));
    for (int i = 0; i < 200; ++i) CHECK(store.get<text>("k" + std::to_string(i)) == "v" + std::to_string(i));
    for (int i = 0; i < 50; ++i) CHECK(store.increment<hits>("n" + std::to_string(i % 5)) == i / 5 + 1);

    // the keys spread over every master, each reached over TLS (the seed alone holds a third)
    int masters_with_keys = 0;
    for (auto& node : cluster.nodes()) {
        auto role = node->command({"ROLE"});
        if (std::string(role->element[0]->str, role->element[0]->len) != "master") continue;
        if (node->command({"DBSIZE"})->integer > 0) ++masters_with_keys;
    }
    CHECK(masters_with_keys == 3);
    // six nodes learnt, several connections each: one TLS context, files read once
    CHECK(hotstate::detail::redis::tls_context::load_count() - contexts_before == 1);
}
