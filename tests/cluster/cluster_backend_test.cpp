// The Redis Cluster backend against a real 3-master/3-replica cluster: keys
// land on the node their slot names, ASK and MOVED are followed, reads go to
// replicas only when asked, and failures are typed errors naming the slot and
// node, never a key or a password.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/backends/compiled.hpp>
#include <hotstate/backends/compiled_definitions.hpp>
#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/store.hpp>

#include "cluster/cluster_fixture.hpp"
#include "cluster/reshard_support.hpp"
#include "support/errors.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using hotstate::testing::eventually;
using hotstate::detail::redis::routing::key_slot;
using hotstate::testing::another_master;
using hotstate::testing::command_calls;
using hotstate::testing::my_id;

namespace {

struct text : hotstate::category<60, "cluster-text"> {};
struct hits : hotstate::category<61, "cluster-hits", std::int64_t> {};
struct jobs : hotstate::category<62, "cluster-jobs", hotstate::bytes, hotstate::hash_tagged> {};

using backend_type = hotstate::backends::redis_cluster;
using store_type = hotstate::store<backend_type, text, hits, jobs>;

}  // namespace

TEST_CASE("cluster: every key sits on the master its CRC16 slot names", "[cluster]") {
    auto& cluster = shared_redis_cluster();
    flush_cluster(cluster);
    store_type s(shared_cluster_config());
    std::vector<int> per_master_port;
    for (int i = 0; i < 60; ++i) {
        const std::string key = "user:" + std::to_string(i);
        s.set<text>(key, "v" + std::to_string(i));
        s.increment<hits>(key, 2);
        const std::string encoded = hotstate::encode_key<text>(key);
        auto* owner = cluster.master_of_slot(key_slot(encoded));
        REQUIRE(owner != nullptr);
        auto raw = owner->command({"GET", encoded});
        REQUIRE(raw->type == REDIS_REPLY_STRING);
        CHECK(std::string_view(raw->str, raw->len) == "v" + std::to_string(i));
        per_master_port.push_back(owner->port());
    }
    std::sort(per_master_port.begin(), per_master_port.end());
    per_master_port.erase(std::unique(per_master_port.begin(), per_master_port.end()), per_master_port.end());
    CHECK(per_master_port.size() == 3);  // the keys spread over all three masters

    SECTION("erase_all scans every master") {
        CHECK(s.erase_all<text>("user:") == 60);
        CHECK(s.counter<hits>("user:5") == 2);
        CHECK(s.erase_all<hits>() == 60);
    }
    SECTION("a hash-tagged key, its lock and its rate buckets share one slot") {
        const auto encoded = hotstate::encode_key<jobs>("queue-run");
        const auto bucket = hotstate::encode_window_bucket<jobs>("queue-run", 12345);
        CHECK(key_slot(encoded) == key_slot(bucket));
        auto held = s.try_lock<jobs>("queue-run", 10s);
        REQUIRE(held.has_value());
        CHECK(cluster.master_of_slot(key_slot(encoded))->command({"EXISTS", encoded})->integer == 1);
    }
}

// compiled<redis_cluster>, instantiated in this TU (a program does it in one of its own)
template class hotstate::backends::compiled<hotstate::backends::redis_cluster>;

TEST_CASE("cluster: compiled<redis_cluster> puts every key where the header-only backend does", "[cluster][compiled]") {
    auto& cluster = shared_redis_cluster();
    flush_cluster(cluster);
    hotstate::store<hotstate::backends::compiled<backend_type>, text, hits, jobs> compiled_store(shared_cluster_config());
    store_type header_only(shared_cluster_config());
    for (int i = 0; i < 60; ++i) {
        const std::string key = "user:" + std::to_string(i);
        compiled_store.set<text>(key, "v" + std::to_string(i));
        CHECK(compiled_store.increment<hits>(key, 2) == 2);
        const std::string encoded = hotstate::encode_key<text>(key);
        auto raw = cluster.master_of_slot(key_slot(encoded))->command({"GET", encoded});
        REQUIRE(raw->type == REDIS_REPLY_STRING);
        CHECK(std::string_view(raw->str, raw->len) == "v" + std::to_string(i));
        CHECK(header_only.counter<hits>(key) == 2);
    }
    auto held = compiled_store.try_lock<jobs>("queue-run", 10s);
    REQUIRE(held.has_value());
    CHECK_FALSE(header_only.try_lock<jobs>("queue-run", 10s).has_value());
    CHECK(compiled_store.erase_all<text>("user:") == 60);
    CHECK(compiled_store.backend().engine().refresh_count() >= 1);
}

TEST_CASE("cluster: ASK during a slot migration, then MOVED once it is done", "[cluster]") {
    auto& cluster = shared_redis_cluster();
    flush_cluster(cluster);
    store_type s(shared_cluster_config());
    auto& backend = s.backend();

    // "a{ask}" and "b{ask}" hash by their tag: one slot, chosen by the test
    const std::string first = hotstate::encode_key<text>("a{ask}");
    const std::string second = hotstate::encode_key<text>("b{ask}");
    const std::uint16_t slot = key_slot(first);
    REQUIRE(key_slot(second) == slot);
    s.set<text>("a{ask}", "before");

    auto* source = cluster.master_of_slot(slot);
    REQUIRE(source != nullptr);
    auto* target = another_master(cluster, source);
    REQUIRE(target != nullptr);
    const std::string slot_text = std::to_string(slot);
    REQUIRE(target->command({"CLUSTER", "SETSLOT", slot_text, "IMPORTING", my_id(*source)})->type == REDIS_REPLY_STATUS);
    REQUIRE(source->command({"CLUSTER", "SETSLOT", slot_text, "MIGRATING", my_id(*target)})->type == REDIS_REPLY_STATUS);
    const std::string target_port = std::to_string(target->port());
    auto migrated = source->command({"MIGRATE", "127.0.0.1", target_port, "", "0", "5000", "KEYS", first});
    REQUIRE(migrated->type == REDIS_REPLY_STATUS);

    const auto retries = backend.retry_count();
    const auto refreshes = backend.refresh_count();
    CHECK(s.get<text>("a{ask}") == "before");  // the source says ASK; ASKING + GET on the target
    CHECK(backend.retry_count() == retries + 1);
    CHECK(backend.refresh_count() == refreshes);  // ASK is one-off: the map is not touched
    CHECK(backend.master_of_slot(slot) == source->address());
    s.set<text>("b{ask}", "new");  // a key missing on the source is created on the target
    CHECK(target->command({"EXISTS", second})->integer == 0);  // (not visible there without ASKING)
    auto asking = target->client().command({"ASKING"});
    CHECK(target->client().command({"GET", second})->type == REDIS_REPLY_STRING);

    for (auto& node : cluster.nodes()) {
        auto role = node->command({"ROLE"});
        if (std::string_view(role->element[0]->str) != "master") continue;
        CHECK(node->command({"CLUSTER", "SETSLOT", slot_text, "NODE", my_id(*target)})->type == REDIS_REPLY_STATUS);
    }
    CHECK(s.get<text>("a{ask}") == "before");  // the source now says MOVED: patch, refresh, retry
    CHECK(backend.master_of_slot(slot) == target->address());
    CHECK(backend.refresh_count() > refreshes);
    const auto settled = backend.retry_count();
    CHECK(s.get<text>("b{ask}") == "new");
    CHECK(backend.retry_count() == settled);  // straight to the new owner
}

TEST_CASE("cluster: reads go to replicas only with read_from_replicas, writes never", "[cluster]") {
    auto& cluster = shared_redis_cluster();
    flush_cluster(cluster);
    REQUIRE(eventually([&] { return cluster.replicas_known(); }, 30s));
    auto settings = shared_cluster_config();
    settings.read_from_replicas = true;
    store_type s(settings);

    s.set<text>("replicated", "v");
    const std::string encoded = hotstate::encode_key<text>("replicated");
    auto* master = cluster.master_of_slot(key_slot(encoded));
    REQUIRE(master != nullptr);
    hotstate::testing::redis_server* replica = nullptr;
    for (auto& node : cluster.nodes()) {
        auto info = node->command({"INFO", "replication"});
        const std::string_view text(info->str, info->len);
        if (text.find("role:slave") != std::string_view::npos &&
            text.find("master_port:" + std::to_string(master->port())) != std::string_view::npos)
            replica = node.get();
    }
    REQUIRE(replica != nullptr);
    (void)replica->client().command({"READONLY"});
    REQUIRE(eventually([&] { return replica->client().command({"GET", encoded})->type == REDIS_REPLY_STRING; }));

    const auto master_gets = command_calls(*master, "get");
    const auto replica_gets = command_calls(*replica, "get");
    for (int i = 0; i < 10; ++i) CHECK(s.get<text>("replicated") == "v");
    CHECK(command_calls(*replica, "get") - replica_gets >= 10);
    CHECK(command_calls(*master, "get") == master_gets);

    const auto master_sets = command_calls(*master, "set");
    s.set<text>("replicated", "w");
    CHECK(command_calls(*master, "set") == master_sets + 1);
    CHECK(eventually([&] { return s.get<text>("replicated") == "w"; }));
}

TEST_CASE("cluster: configuration errors are typed and never print a secret", "[cluster][config]") {
    hotstate::redis::cluster_config settings;
    settings.urls = {"redis://127.0.0.1:7000"};

    SECTION("resp3 is refused with this hiredis") {
        settings.node.protocol = hotstate::redis::protocol_version::resp3;
        const auto e = hotstate::testing::error_of([&] { backend_type backend(settings); });
        CHECK(e.kind() == hotstate::errc::configuration);
        CHECK_THAT(e.what(), Catch::Contains("resp3") && Catch::Contains("hiredis"));
    }
    SECTION("no seed") {
        settings.urls.clear();
        CHECK(hotstate::testing::error_of([&] { backend_type backend(settings); }).kind() == hotstate::errc::configuration);
    }
    SECTION("a malformed seed names itself without its password") {
        settings.urls = {"redis://127.0.0.1:7000", "redis://user:hunter2@host:notaport"};
        const auto e = hotstate::testing::error_of([&] { backend_type backend(settings); });
        CHECK(e.kind() == hotstate::errc::configuration);
        CHECK_THAT(e.what(), Catch::Contains("notaport") && !Catch::Contains("hunter2"));
    }
    SECTION("unix sockets and databases do not exist on a cluster") {
        settings.urls = {"unix:///tmp/redis.sock"};
        CHECK(hotstate::testing::error_of([&] { backend_type backend(settings); }).kind() == hotstate::errc::configuration);
        settings.urls = {"redis://127.0.0.1:7000/3"};
        CHECK(hotstate::testing::error_of([&] { backend_type backend(settings); }).kind() == hotstate::errc::configuration);
    }
    SECTION("printing a config masks every secret") {
        settings.urls = {"redis://admin:hunter2@10.0.0.1:7000"};
        settings.node.auth_secret = "s3cr3t-value";
        const auto printed = hotstate::redis::to_string(settings);
        CHECK_THAT(printed, !Catch::Contains("hunter2") && !Catch::Contains("s3cr3t-value") && Catch::Contains("***"));
    }
}

TEST_CASE("cluster: no reachable node gives a connection error naming the node and slot", "[cluster]") {
    hotstate::redis::cluster_config settings;
    const auto port = hotstate::testing::free_port();
    settings.urls = {"redis://127.0.0.1:" + std::to_string(port)};
    settings.node.timeout = 1s;
    settings.retry.max_retries = 3;
    settings.retry.min_retry_wait = 1ms;
    settings.retry.max_retry_wait = 4ms;
    store_type s(settings);
    const auto e = hotstate::testing::error_of([&] { s.set<text>("secret-key-bytes", "v"); });
    CHECK(e.kind() == hotstate::errc::connection);
    CHECK_THAT(e.what(), Catch::Contains("127.0.0.1:" + std::to_string(port)));
    CHECK_THAT(e.what(), Catch::Contains("slot"));
    CHECK_THAT(e.what(), Catch::Contains("cluster-text"));
    CHECK_THAT(e.what(), Catch::Contains("3 retries"));
    CHECK_THAT(e.what(), !Catch::Contains("secret-key-bytes"));
}

TEST_CASE("cluster: a wrong password is an authentication error at start-up", "[cluster][auth]") {
    hotstate::testing::redis_cluster_options options;
    options.replicas_per_master = 0;
    options.requirepass = "right-pass";
    hotstate::testing::redis_cluster secured(options);
    hotstate::redis::cluster_config settings;
    settings.urls = secured.seed_urls();
    settings.node.timeout = 2s;
    settings.node.auth_secret = "wrong-pass";
    {
        backend_type backend(settings);
        const auto e = hotstate::testing::error_of([&] { backend.ping(); });
        CHECK(e.kind() == hotstate::errc::authentication);
        CHECK_THAT(e.what(), !Catch::Contains("wrong-pass") && !Catch::Contains("right-pass"));
        store_type s(settings);
        CHECK(hotstate::testing::error_of([&] { s.set<text>("k", "v"); }).kind() == hotstate::errc::authentication);
    }
    settings.node.auth_secret = "right-pass";
    store_type s(settings);
    s.backend().ping();
    s.set<text>("k", "v");
    CHECK(s.get<text>("k") == "v");
}

#include <xxhash.h>

#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/sharded.hpp>

TEST_CASE("sharded over a standalone Redis and a Redis Cluster: each key on the shard xxh3 names", "[cluster][sharded]") {
    auto& cluster = shared_redis_cluster();
    flush_cluster(cluster);
    hotstate::testing::redis_server standalone;
    hotstate::redis::config standalone_settings;
    standalone_settings.url = standalone.url();
    using mixed = hotstate::backends::sharded<hotstate::backends::redis, hotstate::backends::redis_cluster>;
    hotstate::store<mixed, text, hits> s(std::vector<hotstate::redis::config>{standalone_settings},
                                         std::vector<hotstate::redis::cluster_config>{shared_cluster_config()});
    REQUIRE(s.backend().shard_count() == 2);
    int on_cluster = 0;
    for (int i = 0; i < 40; ++i) {
        const std::string key = "mixed-" + std::to_string(i);
        s.set<text>(key, "v");
        const std::string encoded = hotstate::encode_key<text>(key);
        const bool in_cluster = XXH3_64bits(encoded.data(), encoded.size()) % 2 == 1;  // shards in type order
        CHECK(standalone.command({"EXISTS", encoded})->integer == (in_cluster ? 0 : 1));
        CHECK(cluster.master_of_slot(key_slot(encoded))->command({"EXISTS", encoded})->integer == (in_cluster ? 1 : 0));
        on_cluster += in_cluster ? 1 : 0;
    }
    CHECK(on_cluster > 5);
    CHECK(on_cluster < 35);
    CHECK(s.erase_all<text>("mixed-") == 40);
}
