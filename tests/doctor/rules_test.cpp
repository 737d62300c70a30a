// The doctor's rules as pure functions: each verdict boundary.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <hotstate/detail/config/sent_commands.hpp>
#include <hotstate/detail/config/transport_commands.hpp>
#include <hotstate/detail/doctor/rules.hpp>
#include <hotstate/detail/doctor/probe.hpp>
#include <hotstate/detail/queue/redis_scripts.hpp>
#include <hotstate/detail/redis/proto/scripts.hpp>

using namespace std::chrono_literals;
namespace d = hotstate::detail::doctor;
using hotstate::doctor::verdict;

TEST_CASE("version: 6.0 is the minimum, 6.2 brings GETDEL", "[doctor]") {
    CHECK(d::version_rule("s", "5.0.14").result == verdict::fail);
    CHECK(d::version_rule("s", "6.0.16").result == verdict::warn);
    CHECK(d::version_rule("s", "6.2.0").result == verdict::pass);
    CHECK(d::version_rule("s", "7.0.15").result == verdict::pass);
    CHECK(d::version_rule("s", "10.1").result == verdict::pass);
}

TEST_CASE("maxmemory-policy: only noeviction passes (every hotstate key has a TTL)", "[doctor]") {
    CHECK(d::eviction_rule("s", "noeviction").result == verdict::pass);
    for (const char* policy : {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
                               "allkeys-lfu", "allkeys-random"}) {
        INFO(policy);
        CHECK(d::eviction_rule("s", policy).result == verdict::fail);
    }
}

TEST_CASE("persistence: any without queues; with queues AOF with appendfsync always", "[doctor]") {
    using sv = std::optional<std::string_view>;
    // without queues: RDB or AOF passes, neither warns
    CHECK(d::persistence_rule("s", "3600 1", false, sv{}, false).result == verdict::pass);
    CHECK(d::persistence_rule("s", "", true, "no", false).result == verdict::pass);
    CHECK(d::persistence_rule("s", "", false, sv{}, false).result == verdict::warn);
    // with queues: only appendfsync always keeps every acknowledged enqueue
    CHECK(d::persistence_rule("s", "", true, "always", true).result == verdict::pass);
    CHECK(d::persistence_rule("s", "", true, "everysec", true).result == verdict::warn);
    CHECK(d::persistence_rule("s", "", true, sv{}, true).result == verdict::warn);  // CONFIG denied: not known
    CHECK(d::persistence_rule("s", "3600 1", true, "no", true).result == verdict::fail);
    CHECK(d::persistence_rule("s", "3600 1", false, sv{}, true).result == verdict::fail);
    CHECK(d::persistence_rule("s", "", false, sv{}, true).result == verdict::fail);
    // the policy is shown
    CHECK(d::persistence_rule("s", "3600 1", true, "everysec", false).measured == "rdb save 3600 1, aof on (appendfsync everysec)");
    CHECK(d::persistence_rule("s", std::nullopt, false, sv{}, false).measured == "rdb unknown (CONFIG denied), aof off");
    CHECK(d::persistence_rule("s", "", true, sv{}, false).measured == "rdb off, aof on (appendfsync unknown: CONFIG denied)");
}

TEST_CASE("wait replicas: waitReplicas must not exceed the connected replicas", "[doctor]") {
    CHECK(d::wait_replicas_rule("s", 1, 0).result == verdict::fail);
    CHECK(d::wait_replicas_rule("s", 2, 1).result == verdict::fail);
    CHECK(d::wait_replicas_rule("s", 1, 1).result == verdict::pass);
    CHECK(d::wait_replicas_rule("s", 1, 2).result == verdict::pass);
    CHECK(d::wait_replicas_rule("s", 2, 1).measured == "waitReplicas 2, 1 replicas connected");
}

TEST_CASE("tcp-keepalive: 0 fails, up to 300 passes", "[doctor]") {
    CHECK(d::keepalive_rule("s", 0).result == verdict::fail);
    CHECK(d::keepalive_rule("s", 60).result == verdict::pass);
    CHECK(d::keepalive_rule("s", 300).result == verdict::pass);
    CHECK(d::keepalive_rule("s", 7200).result == verdict::warn);
    CHECK(d::keepalive_rule("s", std::nullopt).result == verdict::warn);
}

TEST_CASE("round trip: percentiles and the 1 ms / 5 ms limits", "[doctor]") {
    std::vector<std::chrono::microseconds> samples;
    for (int i = 1; i <= 100; ++i) samples.emplace_back(i * 10);
    CHECK(d::percentile(samples, 0.50) == 510us);
    CHECK(d::percentile(samples, 0.99) == 1000us);
    CHECK(d::latency_rule("s", 400us, 3ms, 300, 1ms, 5ms).result == verdict::pass);
    CHECK(d::latency_rule("s", 400us, 6ms, 300, 1ms, 5ms).result == verdict::warn);
    CHECK(d::latency_rule("s", 2ms, 4ms, 300, 1ms, 5ms).result == verdict::warn);
    CHECK(d::latency_rule("s", 6ms, 9ms, 300, 1ms, 5ms).result == verdict::fail);
    CHECK(d::latency_rule("s", 400us, 3ms, 300, 1ms, 5ms).measured == "p50 0.40 ms, p99 3.00 ms over 300 PINGs");
}

TEST_CASE("memory: under 80 % of maxmemory; sizing: 2-4 MiB per mailbox", "[doctor]") {
    constexpr std::uint64_t mib = 1024 * 1024;
    CHECK(d::memory_rule("s", 10 * mib, 0).result == verdict::warn);
    CHECK(d::memory_rule("s", 79 * mib, 100 * mib).result == verdict::pass);
    CHECK(d::memory_rule("s", 80 * mib, 100 * mib).result == verdict::warn);
    CHECK(d::memory_rule("s", 95 * mib, 100 * mib).result == verdict::fail);
    CHECK(d::memory_rule("s", 79 * mib, 100 * mib).measured == "79.0 MiB of 100.0 MiB (79 %)");
    CHECK(d::sizing_rule("s", 1000, 4000 * mib, "maxmemory").result == verdict::pass);
    CHECK(d::sizing_rule("s", 1000, 3999 * mib, "maxmemory").result == verdict::warn);
    CHECK(d::sizing_rule("s", 1000, 2000 * mib, "maxmemory").result == verdict::warn);
    CHECK(d::sizing_rule("s", 1000, 1999 * mib, "maxmemory").result == verdict::fail);
}

TEST_CASE("TLS: a certificate expiring within 30 days warns, an expired one fails", "[doctor]") {
    CHECK(d::tls_expiry_rule("s", std::chrono::hours{24 * 90}, std::chrono::hours{24 * 30}).result == verdict::pass);
    CHECK(d::tls_expiry_rule("s", std::chrono::hours{24 * 29}, std::chrono::hours{24 * 30}).result == verdict::warn);
    CHECK(d::tls_expiry_rule("s", std::chrono::hours{24 * 30}, std::chrono::hours{24 * 30}).result == verdict::warn);
    CHECK(d::tls_expiry_rule("s", std::chrono::hours{24 * 30 + 1}, std::chrono::hours{24 * 30}).result == verdict::pass);
    CHECK(d::tls_expiry_rule("s", std::chrono::seconds{-5}, std::chrono::hours{24 * 30}).result == verdict::fail);
}

TEST_CASE("keys are counted under the stock category their prefix byte names", "[doctor]") {
    CHECK(d::key_category(std::string(1, '\x05') + "user@example.com") == "rate-limit-auth");
    CHECK(d::key_category(std::string("{") + std::string(1, '\x10') + "grey}") == "greylist");
    CHECK(d::key_category(std::string(1, '\x0c') + "x") == "prefix 12");
    CHECK(d::key_category("session:1") == "other");
}

TEST_CASE("INFO text is read field by field", "[doctor]") {
    const auto info = d::parse_info("# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\n\r\n# Memory\r\nmaxmemory:0\r\n");
    CHECK(info.at("redis_version") == "7.0.15");
    CHECK(info.at("redis_mode") == "cluster");
    CHECK(info.at("maxmemory") == "0");
}

TEST_CASE("slot coverage: every slot assigned to a master that answers", "[doctor]") {
    const std::vector<d::slot_range> map = {{0, 5460, "a:1"}, {5461, 10922, "b:2"}, {10923, 16383, "c:3"}};
    const auto all = d::slot_coverage_rule(map, {}, "ok");
    CHECK(all.result == verdict::pass);
    CHECK(all.measured == "16384 of 16384 slots served (cluster_state ok)");
    // a master the doctor cannot reach: its slots are lost even while the cluster still says ok
    const auto dead = d::slot_coverage_rule(map, {"b:2"}, "ok");
    CHECK(dead.result == verdict::fail);
    CHECK(dead.measured == "10922 of 16384 slots served, 5462 on unreachable b:2 (cluster_state ok)");
    // a hole in the map
    const auto hole = d::slot_coverage_rule({{0, 5460, "a:1"}, {10923, 16383, "c:3"}}, {}, "fail");
    CHECK(hole.result == verdict::fail);
    CHECK(hole.measured == "10922 of 16384 slots served, 5462 unassigned (cluster_state fail)");
    // everything answers but the cluster says fail (a partition the doctor does not see)
    CHECK(d::slot_coverage_rule(map, {}, "fail").result == verdict::fail);
}

TEST_CASE("CLUSTER NODES after a failover: the failed master apart, the promoted one without a replica", "[doctor]") {
    // a 3 + 3 cluster whose master b died and whose replica e took its slots
    const auto nodes = d::parse_cluster_nodes(
        "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\n"
        "b2 127.0.0.1:7001@17001 master,fail - 1 0 2 disconnected\n"
        "c3 127.0.0.1:7002@17002,redis-3.internal master - 0 0 3 connected 10923-16383\n"
        "d4 127.0.0.1:7003@17003 slave a1 0 0 1 connected\n"
        "e5 127.0.0.1:7004@17004 master - 0 0 7 connected 5461-10922\n"
        "f6 [::1]:7005@17005 slave c3 0 0 3 connected\n"
        "g7 :0@0 master,noaddr - 0 0 0 disconnected\n"
        "h8 127.0.0.1:7006@17006 handshake - 0 0 0 connected\n");
    REQUIRE(nodes.size() == 6);
    CHECK(nodes[1].failed);
    CHECK(nodes[1].master);
    CHECK(nodes[3].master_id == "a1");
    CHECK(nodes[5].host == "::1");
    CHECK(nodes[5].address() == "[::1]:7005");
    CHECK(d::cluster_roles(nodes) == "3 masters, 2 replicas, 1 failed (127.0.0.1:7001)");
    CHECK(d::masters_without_replica(nodes) == std::vector<std::string>{"127.0.0.1:7004"});
    CHECK(d::replica_coverage_rule({"127.0.0.1:7004"}).result == verdict::warn);
    CHECK(d::replica_coverage_rule({"127.0.0.1:7004"}).measured == "no replica: 127.0.0.1:7004");
    CHECK(d::replica_coverage_rule({}).result == verdict::pass);
    // fail? (suspected, not yet agreed) is no answer either
    CHECK(d::parse_cluster_nodes("x 127.0.0.1:7000@17000 slave,fail? y 0 0 1 connected\n").front().failed);
}

namespace {

/// The names of the commands a Lua script calls (redis.call / redis.pcall with a literal name).
std::set<std::string> called_by(std::string_view text) {
    std::set<std::string> out;
    for (const std::string_view call : {"redis.call('", "redis.pcall('"}) {
        for (auto at = text.find(call); at != std::string_view::npos; at = text.find(call, at + 1)) {
            const auto start = at + call.size();
            out.emplace(text.substr(start, text.find('\'', start) - start));
        }
    }
    return out;
}

std::set<std::string> names(const std::vector<hotstate::detail::config::sent_command>& list) {
    std::set<std::string> out;
    for (const auto& command : list) out.insert(command.argv.front());
    return out;
}

}  // namespace

TEST_CASE("the command lists name every command the scripts call", "[doctor][config]") {
    namespace cfg = hotstate::detail::config;
    namespace r = hotstate::detail::redis;
    namespace q = hotstate::detail::queue;
    const auto store = names(cfg::store_commands(cfg::server_role::standalone));
    for (const auto& script : r::store_scripts)
        for (const auto& name : called_by(script.text)) {
            INFO("store script " << script.name << " calls " << name);
            CHECK(store.count(name) == 1);
        }
    const auto queue = names(cfg::queue_commands({}));
    for (const auto& script : q::redis_scripts)
        for (const auto& name : called_by(script.text)) {
            INFO("queue script " << script.name << " calls " << name);
            CHECK(queue.count(name) == 1);
        }
}

TEST_CASE("one list per capability: store, queues, transport", "[doctor][config]") {
    namespace cfg = hotstate::detail::config;
    const auto store = names(cfg::commands_sent(cfg::server_role::standalone, false, false, {}));
    CHECK(store.count("BLPOP") == 0);
    CHECK(store.count("PUBLISH") == 0);
    const auto queues = names(cfg::commands_sent(cfg::server_role::standalone, false, false, {.queues = hotstate::queue_options{}, .transport = {}}));
    CHECK(queues.count("BLPOP") == 1);
    CHECK(queues.count("WAIT") == 0);
    CHECK(names(cfg::queue_commands({.wait_replicas = 1})).count("WAIT") == 1);
    const auto pubsub = names(cfg::commands_sent(cfg::server_role::cluster, true, false,
                                                 {.queues = std::nullopt, .transport = cfg::transport_use(hotstate::transports::redis_pubsub_options{})}));
    CHECK(pubsub.count("PUBLISH") == 1);
    CHECK(pubsub.count("SUBSCRIBE") == 1);
    CHECK(pubsub.count("READONLY") == 1);
    const auto streams = cfg::transport_commands(hotstate::transports::redis_streams_options{.stream = "s", .cursor_key = "c"});
    CHECK(names(streams) == std::set<std::string>{"GET", "PING", "SET", "XADD", "XINFO", "XRANGE", "XREAD"});
    CHECK(names(cfg::transport_commands(hotstate::transports::redis_streams_options{})).count("SET") == 0);
}
