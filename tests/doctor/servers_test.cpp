// The doctor against servers the test starts in each bad configuration the
// deployment rules name, and one that is configured well. Round-trip limits
// are widened (speed is not asserted in tests); everything else is the
// doctor's defaults.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include <hotstate/doctor.hpp>

#include "support/redis_cluster.hpp"
#include "support/redis_sentinel.hpp"
#include "support/redis_server.hpp"
#include "support/tls_certs.hpp"

using namespace std::chrono_literals;
using hotstate::doctor::verdict;
using hotstate::testing::redis_server;

namespace {

hotstate::doctor::options quick() {
    hotstate::doctor::options options;
    options.pings = 20;
    options.p50_limit = 1s;
    options.p99_limit = 2s;
    return options;
}

verdict verdict_of(const hotstate::doctor::report& report, std::string_view name) {
    const auto* line = report.find(name);
    INFO(report.table());
    REQUIRE(line != nullptr);
    return line->result;
}

/// `server`'s URL with a user name and password.
hotstate::redis::config logged_in(const redis_server& server, const std::string& user, const std::string& password) {
    hotstate::redis::config config{.url = server.url()};
    config.node.auth_username = user;
    config.node.auth_secret = hotstate::secret(password);
    return config;
}

/// A server the way the rules want it: persistence, maxmemory, noeviction, keep-alive 300.
hotstate::testing::redis_server_options well_configured() {
    hotstate::testing::redis_server_options options;
    options.persistence = true;
    options.extra_config = {"maxmemory 256mb", "maxmemory-policy noeviction", "tcp-keepalive 300"};
    return options;
}

}  // namespace

TEST_CASE("doctor: a well-configured server passes every check", "[doctor][redis]") {
    redis_server server(well_configured());
    server.command({"SET", std::string(1, '\x05') + "user@example.com", "3"});
    server.command({"SET", std::string(1, '\x10') + "greylist-token", "1"});
    const auto report = hotstate::doctor::examine_url(server.url(), quick());
    INFO(report.table());
    CHECK(report.mode == "standalone");
    CHECK(report.with(verdict::warn).empty());
    CHECK(report.with(verdict::fail).empty());
    CHECK(report.exit_code() == 0);
    CHECK(report.find("keys: rate-limit-auth")->measured.starts_with("1 keys, "));
    CHECK(report.find("keys: greylist") != nullptr);
    CHECK(report.find("acl")->measured == "user 'default' may run all");
}

TEST_CASE("doctor: allkeys-lru fails, and so does volatile-lru (every hotstate key has a TTL)", "[doctor][redis]") {
    auto settings = well_configured();
    settings.extra_config.push_back("maxmemory-policy allkeys-lru");
    redis_server allkeys(settings);
    const auto report = hotstate::doctor::examine_url(allkeys.url(), quick());
    CHECK(verdict_of(report, "maxmemory-policy") == verdict::fail);
    CHECK(report.find("maxmemory-policy")->measured == "allkeys-lru");
    CHECK(report.exit_code() == 2);

    settings.extra_config.back() = "maxmemory-policy volatile-lru";
    redis_server volatile_lru(settings);
    const auto evicting = hotstate::doctor::examine_url(volatile_lru.url(), quick());
    CHECK(verdict_of(evicting, "maxmemory-policy") == verdict::fail);
    CHECK(evicting.find("maxmemory-policy")->measured == "volatile-lru");
    CHECK(evicting.exit_code() == 2);
}

TEST_CASE("doctor: a replica as target fails as a read-only replica of its master", "[doctor][redis]") {
    redis_server master(well_configured());
    auto settings = well_configured();
    settings.extra_config.push_back("replicaof 127.0.0.1 " + std::to_string(master.port()));
    redis_server replica(settings);
    const auto report = hotstate::doctor::examine_url(replica.url(), quick());
    INFO(report.table());
    CHECK(verdict_of(report, "mode") == verdict::fail);
    CHECK(report.find("mode")->measured == "read-only replica of " + master.address());
    CHECK(report.exit_code() == 2);
    // the master itself is a standalone server with a replica
    const auto of_master = hotstate::doctor::examine_url(master.url(), quick());
    CHECK(verdict_of(of_master, "mode") == verdict::pass);
    CHECK(of_master.find("mode")->measured == "standalone");
}

TEST_CASE("doctor: waitReplicas beyond the connected replicas fails", "[doctor][redis]") {
    redis_server master(well_configured());
    auto options = quick();
    options.queues = hotstate::queue_options{.wait_replicas = 1};
    const auto alone = hotstate::doctor::examine_url(master.url(), options);
    INFO(alone.table());
    CHECK(verdict_of(alone, "wait replicas") == verdict::fail);
    CHECK(alone.find("wait replicas")->measured == "waitReplicas 1, 0 replicas connected");
    CHECK(alone.exit_code() == 2);

    auto settings = well_configured();
    settings.extra_config.push_back("replicaof 127.0.0.1 " + std::to_string(master.port()));
    redis_server replica(settings);
    REQUIRE(hotstate::testing::eventually([&] {
        const auto info = master.command({"INFO", "replication"});
        return std::string_view(info->str, info->len).find("connected_slaves:1") != std::string_view::npos;
    }));
    const auto attached = hotstate::doctor::examine_url(master.url(), options);
    CHECK(verdict_of(attached, "wait replicas") == verdict::pass);
    CHECK(attached.find("wait replicas")->measured == "waitReplicas 1, 1 replicas connected");
    // without queues (or without waitReplicas) there is no such line
    CHECK(hotstate::doctor::examine_url(master.url(), quick()).find("wait replicas") == nullptr);
}

TEST_CASE("doctor: the AOF's fsync policy is shown; with queues everysec warns and no fails", "[doctor][redis]") {
    const auto persistence_with = [](std::string_view policy, bool queues) {
        auto settings = well_configured();
        settings.extra_config.push_back("appendfsync " + std::string(policy));
        redis_server server(settings);
        auto options = quick();
        if (queues) options.queues = hotstate::queue_options{};
        const auto report = hotstate::doctor::examine_url(server.url(), options);
        INFO(report.table());
        REQUIRE(report.find("persistence") != nullptr);
        return *report.find("persistence");
    };
    const auto no_queues = persistence_with("no", false);
    CHECK(no_queues.result == verdict::pass);
    CHECK(no_queues.measured == "rdb save 3600 1, aof on (appendfsync no)");
    CHECK(persistence_with("no", true).result == verdict::fail);
    CHECK(persistence_with("everysec", true).result == verdict::warn);
    CHECK(persistence_with("always", true).result == verdict::pass);
}

TEST_CASE("doctor: a user who may not run ACL is named as configured, not 'default'", "[doctor][redis]") {
    auto settings = well_configured();
    settings.acl_users = {"app3 on >app3-pass ~* &* +@all -acl"};
    redis_server server(settings);
    const auto config = logged_in(server, "app3", "app3-pass");
    const auto report = hotstate::doctor::examine(config, quick());
    INFO(report.table());
    CHECK(report.find("acl")->measured == "user 'app3' may run all");
    CHECK(report.find("acl")->rule == "every command hotstate sends (MULTI/DISCARD)");
}

TEST_CASE("doctor: a server that does not answer is no PASS of any mode", "[doctor][redis]") {
    const std::uint16_t dead_port = hotstate::testing::free_port();
    const auto report = hotstate::doctor::examine_url("redis://127.0.0.1:" + std::to_string(dead_port), quick());
    INFO(report.table());
    CHECK(report.mode == "unknown");
    CHECK(verdict_of(report, "mode") == verdict::fail);
    CHECK(report.find("mode")->measured == "unknown: no answer");
    CHECK(verdict_of(report, "connect") == verdict::fail);
    CHECK(report.with(verdict::pass).empty());
}

TEST_CASE("doctor: a timed-out check states the timeout in use; a URL is waited for once", "[doctor][redis]") {
    redis_server server(well_configured());
    server.child().signal(SIGSTOP);  // accepts connections (the kernel's backlog), answers nothing
    auto options = quick();
    options.timeout = 1500ms;
    const auto start = std::chrono::steady_clock::now();
    const auto report = hotstate::doctor::examine_url(server.url(), options);
    const auto took = std::chrono::steady_clock::now() - start;
    server.child().signal(SIGCONT);
    INFO(report.table());
    const auto* line = report.find("connect");
    REQUIRE(line != nullptr);
    CHECK(line->result == verdict::fail);
    CHECK(line->measured.find("(timeout 1500ms)") != std::string::npos);
    // one wait of the timeout, not one to detect the mode and another to examine
    CHECK(took >= 1500ms);
    CHECK(took < 2900ms);
}

TEST_CASE("doctor: after a failover the dead master is not counted, and a master without a replica warns",
          "[doctor][cluster]") {
    hotstate::testing::redis_cluster cluster;  // 3 masters, 1 replica each
    // gossip spreads the replicas' roles a moment after replication starts
    REQUIRE(hotstate::testing::eventually([&] { return cluster.replicas_known(); }, 30s));
    const auto healthy = hotstate::doctor::examine_url(cluster.seed_urls().front(), quick());
    INFO(healthy.table());
    CHECK(healthy.find("mode")->measured == "cluster: 3 masters, 3 replicas");
    CHECK(verdict_of(healthy, "replicas") == verdict::pass);
    CHECK(healthy.find("replicas")->measured == "every master has a replica");

    auto& victim = cluster.node(1);
    const std::string dead = victim.address();
    std::uint16_t victim_slot = 0;
    {
        const auto slots = cluster.node(1).command({"CLUSTER", "SLOTS"});
        for (std::size_t i = 0; i < slots->elements; ++i)
            if (slots->element[i]->element[2]->element[1]->integer == victim.port())
                victim_slot = static_cast<std::uint16_t>(slots->element[i]->element[0]->integer);
    }
    victim.kill();
    REQUIRE(hotstate::testing::eventually(
        [&] {
            auto* owner = cluster.master_of_slot(victim_slot);
            return owner != nullptr && owner != &victim;
        },
        30s));
    const std::string promoted = cluster.master_of_slot(victim_slot)->address();
    const auto report = hotstate::doctor::examine(hotstate::redis::cluster_config{.urls = {cluster.node(0).url()}}, quick());
    INFO(report.table());
    CHECK(report.find("mode")->measured == "cluster: 3 masters, 2 replicas, 1 failed (" + dead + ")");
    CHECK(verdict_of(report, "slot coverage") == verdict::pass);
    CHECK(verdict_of(report, "replicas") == verdict::warn);
    CHECK(report.find("replicas")->measured == "no replica: " + promoted);
}

TEST_CASE("doctor: no persistence warns, and fails when queues are configured", "[doctor][redis]") {
    auto settings = well_configured();
    settings.persistence = false;
    redis_server server(settings);
    auto options = quick();
    const auto without_queues = hotstate::doctor::examine_url(server.url(), options);
    CHECK(verdict_of(without_queues, "persistence") == verdict::warn);
    CHECK(without_queues.find("persistence")->measured == "rdb off, aof off");
    CHECK(without_queues.exit_code() == 1);
    options.queues = hotstate::queue_options{};
    const auto with_queues = hotstate::doctor::examine_url(server.url(), options);
    CHECK(verdict_of(with_queues, "persistence") == verdict::fail);
    CHECK(with_queues.exit_code() == 2);
}

TEST_CASE("doctor: tcp-keepalive 0 fails", "[doctor][redis]") {
    auto settings = well_configured();
    settings.extra_config.push_back("tcp-keepalive 0");
    redis_server server(settings);
    const auto report = hotstate::doctor::examine_url(server.url(), quick());
    CHECK(verdict_of(report, "tcp-keepalive") == verdict::fail);
    CHECK(report.find("tcp-keepalive")->measured == "0s");
    CHECK(report.exit_code() == 2);
}

TEST_CASE("doctor: a user who may not run EVALSHA fails the ACL check", "[doctor][redis]") {
    auto settings = well_configured();
    settings.acl_users = {"app on >app-pass ~* &* +@all -evalsha"};
    redis_server server(settings);
    const auto config = logged_in(server, "app", "app-pass");
    const auto report = hotstate::doctor::examine(config, quick());
    CHECK(verdict_of(report, "acl") == verdict::fail);
    CHECK(report.find("acl")->measured == "user 'app' may not run EVALSHA");
    CHECK(report.table().find("app-pass") == std::string::npos);
    CHECK(report.exit_code() == 2);
}

TEST_CASE("doctor: the ACL check covers the coordinator's transport and the queues when configured", "[doctor][redis]") {
    auto settings = well_configured();
    settings.acl_users = {"app on >app-pass ~* &* +@all -publish -xadd -blpop"};
    redis_server server(settings);
    const auto config = logged_in(server, "app", "app-pass");
    // the store alone: everything it sends is allowed
    CHECK(verdict_of(hotstate::doctor::examine(config, quick()), "acl") == verdict::pass);

    auto with_pubsub = quick();
    with_pubsub.transport = hotstate::transports::redis_pubsub_options{.channel = "mail:cluster"};
    const auto pubsub = hotstate::doctor::examine(config, with_pubsub);
    CHECK(verdict_of(pubsub, "acl") == verdict::fail);
    CHECK(pubsub.find("acl")->measured == "user 'app' may not run PUBLISH");
    CHECK(pubsub.exit_code() == 2);

    auto with_streams = quick();
    with_streams.transport = hotstate::transports::redis_streams_options{.stream = "mail:events"};
    const auto streams = hotstate::doctor::examine(config, with_streams);
    CHECK(verdict_of(streams, "acl") == verdict::fail);
    CHECK(streams.find("acl")->measured == "user 'app' may not run XADD");

    auto with_queues = quick();
    with_queues.queues = hotstate::queue_options{};
    const auto queues = hotstate::doctor::examine(config, with_queues);
    CHECK(verdict_of(queues, "acl") == verdict::fail);
    CHECK(queues.find("acl")->measured == "user 'app' may not run BLPOP");
}

TEST_CASE("doctor: a wrong password fails at connect without showing it", "[doctor][redis]") {
    redis_server server({.requirepass = "right"});
    const auto report = hotstate::doctor::examine_url("redis://:wrong-secret@127.0.0.1:" + std::to_string(server.port()), quick());
    CHECK(verdict_of(report, "connect") == verdict::fail);
    CHECK(report.table().find("wrong-secret") == std::string::npos);
    CHECK(report.json().find("wrong-secret") == std::string::npos);
}

TEST_CASE("doctor: a TLS certificate expiring within 30 days warns", "[doctor][redis][tls]") {
    hotstate::testing::tls_certs certs;  // the server certificate is valid for 30 days
    hotstate::testing::redis_tls_server server(certs, {.extra_config = {"maxmemory 256mb", "save 3600 1"}});
    hotstate::redis::config config{.url = "rediss://127.0.0.1:" + std::to_string(server.tls_port())};
    config.node.tls.ca_file = certs.ca();
    const auto report = hotstate::doctor::examine(config, quick());
    CHECK(verdict_of(report, "tls certificate") == verdict::warn);
    // issued for 30 days a moment ago: 30 days left within the same second, 29 and some after it
    const std::string& left = report.find("tls certificate")->measured;
    CHECK((left == "expires in 29 days" || left == "expires in 30 days"));
    CHECK(report.find("connect") == nullptr);
}

TEST_CASE("doctor: a cluster is checked node by node; a master down fails", "[doctor][cluster]") {
    hotstate::testing::redis_cluster_options three_masters;
    three_masters.replicas_per_master = 0;
    hotstate::testing::redis_cluster cluster(three_masters);
    const auto healthy = hotstate::doctor::examine_url(cluster.seed_urls().front(), quick());
    INFO(healthy.table());
    CHECK(healthy.mode == "cluster");
    CHECK(healthy.find("mode")->measured == "cluster: 3 masters, 0 replicas");
    CHECK(verdict_of(healthy, "slot coverage") == verdict::pass);
    CHECK(healthy.find("slot coverage")->measured == "16384 of 16384 slots served (cluster_state ok)");
    for (std::size_t i = 0; i < 3; ++i) CHECK(healthy.find("version", cluster.node(i).address()) != nullptr);
    CHECK(healthy.find("connect") == nullptr);

    const std::string down = cluster.node(1).address();
    cluster.node(1).kill();
    // at once: the cluster has not noticed yet (cluster_state is still ok for
    // cluster-node-timeout), but the doctor cannot reach the master, so its
    // slots are not served
    hotstate::redis::cluster_config config{.urls = {cluster.node(0).url()}};
    const auto report = hotstate::doctor::examine(config, quick());
    INFO(report.table());
    CHECK(verdict_of(report, "slot coverage") == verdict::fail);
    CHECK(report.find("slot coverage")->measured.find(" on unreachable " + down + " (cluster_state ") != std::string::npos);
    CHECK_FALSE(report.find("slot coverage")->measured.starts_with("16384 of 16384"));
    const auto* line = report.find("connect", down);
    REQUIRE(line != nullptr);
    CHECK(line->result == verdict::fail);
    CHECK(report.find("version", cluster.node(0).address()) != nullptr);
    CHECK(report.exit_code() == 2);
}

TEST_CASE("doctor: behind Sentinel, the quorum, the replica count and the master are checked", "[doctor][sentinel]") {
    hotstate::testing::redis_sentinel setup;
    const auto report = hotstate::doctor::examine_url(setup.sentinel_urls().front(), quick());
    INFO(report.table());
    CHECK(report.mode == "sentinel");
    CHECK(report.find("mode")->measured == "sentinel: service " + setup.service_name());
    CHECK(verdict_of(report, "sentinel quorum") == verdict::pass);
    CHECK(report.find("sentinel quorum")->measured.starts_with("OK 3 usable Sentinels"));
    CHECK(report.find("replicas")->measured == "1 replicas");
    CHECK(report.find("version", "127.0.0.1:" + std::to_string(setup.master_port())) != nullptr);
    CHECK(report.find("acl")->measured == "user 'default' may run all");
}

#ifdef HOTSTATE_DOCTOR_PROGRAM
namespace {

/// The hotstate-doctor program, run to its end with its output (stdout and stderr) kept.
class doctor_program {
public:
    /// Runs it with `args`; its exit code (0, 1 or 2).
    int run(std::vector<std::string> args) {
        args.insert(args.begin(), HOTSTATE_DOCTOR_PROGRAM);
        return hotstate::testing::run_program(args, log(), {1, 2});
    }
    /// What the last run printed.
    [[nodiscard]] std::string output() const {
        std::ifstream in(log());
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    /// A scratch directory for the files a test hands it.
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }

private:
    [[nodiscard]] std::filesystem::path log() const { return dir_.path() / "doctor.log"; }
    hotstate::testing::temp_directory dir_;
};

}  // namespace

TEST_CASE("hotstate-doctor: exit status 0 / 1 / 2, --json, and a configuration file", "[doctor][redis]") {
    doctor_program doctor;
    const auto run = [&](std::vector<std::string> args) { return doctor.run(std::move(args)); };
    const auto output = [&] { return doctor.output(); };
    const auto& dir = doctor.dir();
    auto settings = well_configured();
    settings.acl_users = {"app on >app-pass ~* &* +@all"};
    redis_server good(settings);
    // the limits are the defaults here: a loaded machine may make the round trip WARN, never FAIL
    CHECK(run({"--pings", "20", good.url()}) <= 1);
    CHECK(output().find("PASS  " + good.address() + "  maxmemory-policy") != std::string::npos);

    settings.extra_config.push_back("maxmemory-policy allkeys-lru");
    redis_server bad(settings);
    CHECK(run({"--pings", "20", "--json", bad.url()}) == 2);
    const auto report = nlohmann::json::parse(output());
    CHECK(report["exitCode"] == 2);
    CHECK(report["verdict"] == "FAIL");

    const auto file = dir / "hotstate.json";
    std::ofstream(file) << R"({"inMemoryStore": {"@type": "Redis", "url": ")" << good.url()
                        << R"(", "authUsername": "app", "authSecret": {"@type": "Value", "secret": "app-pass"}}})";
    CHECK(run({"--pings", "20", file.string()}) <= 1);
    CHECK(output().find("user 'app' may run all") != std::string::npos);
    CHECK(output().find("app-pass") == std::string::npos);

    // a Sharded file: every shard is examined, a bad one fails the whole
    const auto shards = dir / "sharded.json";
    std::ofstream(shards) << R"({"@type": "Sharded", "stores": [{"@type": "Redis", "url": ")" << good.url()
                          << R"(", "authUsername": "app", "authSecret": "app-pass"}, {"@type": "Redis", "url": ")"
                          << bad.url() << R"(", "authUsername": "app", "authSecret": "app-pass"}]})";
    CHECK(run({"--pings", "20", shards.string()}) == 2);
    const auto verdict_line = [&](const std::string& server, std::string_view check) {
        std::istringstream lines(output());
        for (std::string line; std::getline(lines, line);)
            if (line.find(" " + server + " ") != std::string::npos && line.find(" " + std::string(check) + " ") != std::string::npos)
                return line.substr(0, 4);
        return std::string("none");
    };
    CHECK(verdict_line(good.address(), "maxmemory-policy") == "PASS");
    CHECK(verdict_line(bad.address(), "maxmemory-policy") == "FAIL");

    // queues and a coordinator in the file: their commands join the ACL check
    auto limited = well_configured();
    limited.acl_users = {"app on >app-pass ~* &* +@all -publish"};
    redis_server no_publish(limited);
    const auto full = dir / "full.json";
    std::ofstream(full) << R"({"inMemoryStore": {"@type": "Redis", "url": ")" << no_publish.url()
                        << R"(", "authUsername": "app", "authSecret": "app-pass"},
        "queues": {"lease": "1m", "maxAttempts": 3},
        "coordinator": {"@type": "Default", "channel": "mail:cluster", "nodeId": 1}})";
    CHECK(run({"--pings", "20", full.string()}) == 2);
    CHECK(verdict_line(no_publish.address(), "acl") == "FAIL");
    CHECK(output().find("user 'app' may not run PUBLISH") != std::string::npos);
    // a coordinator on its own server is examined too, with the transport's commands
    const auto own = dir / "own.json";
    std::ofstream(own) << R"({"inMemoryStore": {"@type": "Redis", "url": ")" << good.url()
                       << R"(", "authUsername": "app", "authSecret": "app-pass"},
        "coordinator": {"@type": "Redis", "url": ")"
                       << no_publish.url() << R"(", "authUsername": "app", "authSecret": "app-pass", "stream": "mail:events"}})";
    CHECK(run({"--pings", "20", own.string()}) <= 1);  // streams: XADD is allowed, PUBLISH is not needed
    CHECK(verdict_line(no_publish.address(), "coordinator acl") == "PASS");
    CHECK(verdict_line(good.address(), "acl") == "PASS");

    // an embedded store has no server to examine; its Redis coordinator still is
    const auto embedded = dir / "embedded.json";
    std::ofstream(embedded) << R"({"inMemoryStore": {"@type": "Memory"},
        "coordinator": {"@type": "Redis", "url": ")" << no_publish.url()
                            << R"(", "authUsername": "app", "authSecret": "app-pass", "channel": "mail:cluster"}})";
    CHECK(run({"--pings", "20", embedded.string()}) == 2);
    CHECK(output().find("embedded store (\"Memory\"): no Redis server to examine") != std::string::npos);
    CHECK(verdict_line(no_publish.address(), "coordinator acl") == "FAIL");

    CHECK(run({"--mailboxes"}) == 2);
    CHECK(output().starts_with("usage: hotstate-doctor"));
}

TEST_CASE("hotstate-doctor --json: every failure is a JSON document on stdout", "[doctor][redis]") {
    doctor_program doctor;
    const auto run = [&](std::vector<std::string> args) { return doctor.run(std::move(args)); };
    const auto output = [&] { return doctor.output(); };
    const auto& dir = doctor.dir();
    const auto failure_of = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "--json");
        CHECK(run(args) == 2);
        INFO(output());
        const auto report = nlohmann::json::parse(output());
        CHECK(report["exitCode"] == 2);
        CHECK(report["verdict"] == "FAIL");
        REQUIRE(report["checks"].size() == 1);
        return report["checks"][0];
    };
    // a file that does not load: the loader's message, with its position
    const auto broken = dir / "broken.json";
    std::ofstream(broken) << R"({"inMemoryStore": {"@type": "Redis", "url": "redis://127.0.0.1:1", "timeout": "1 s"}})";
    const auto loading = failure_of({broken.string()});
    CHECK(loading["check"] == "configuration");
    CHECK(loading["measured"] == "hotstate: configuration: " + broken.string() +
                                     ": inMemoryStore.timeout (line 1, column 79): bad duration '1 s': no space is "
                                     "allowed between the number and the unit");
    // a file that is not there, a usage error
    CHECK(failure_of({(dir / "missing.json").string()})["check"] == "configuration");
    CHECK(failure_of({"--pings"})["check"] == "usage");
    // an unparsable URL, as before
    CHECK(failure_of({"redis://127.0.0.1:99999"})["check"] == "configuration");
}

TEST_CASE("hotstate-doctor: a file without a store object says where the store object is looked for", "[doctor]") {
    doctor_program doctor;
    const auto file = doctor.dir() / "queues-only.json";
    std::ofstream(file) << R"({"queues": {"lease": "30s"}})";
    CHECK(doctor.run({file.string()}) == 2);
    CHECK(doctor.output() == "hotstate: configuration: " + file.string() +
                                 ": no store object: expected \"inMemoryStore\" (or --member NAME) or a top-level \"@type\"\n");
}

TEST_CASE("hotstate-doctor --timeout bounds the wait for a URL target and is stated", "[doctor][redis]") {
    redis_server server(well_configured());
    server.child().signal(SIGSTOP);
    doctor_program doctor;
    const auto start = std::chrono::steady_clock::now();
    CHECK(doctor.run({"--timeout", "1s", server.url()}) == 2);
    const auto took = std::chrono::steady_clock::now() - start;
    server.child().signal(SIGCONT);
    INFO(doctor.output());
    CHECK(doctor.output().find("(timeout 1s)") != std::string::npos);
    CHECK(took < 1900ms);
    CHECK(doctor.run({"--timeout", "1 s", server.url()}) == 2);
    CHECK(doctor.output().find("--timeout '1 s': no space is allowed between the number and the unit") != std::string::npos);
}
#endif
