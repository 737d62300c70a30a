// The Redis backend against real servers: outages, credentials, server errors,
// big and binary values, pool limits, script reloads, the seeds' byte layout,
// Unix sockets and concurrency (pipelines: redis_pipeline_test.cpp).
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/backends/redis.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/key.hpp>
#include <hotstate/store.hpp>

#include "redis/redis_fixture.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"
#include "support/redis_settings.hpp"

using namespace std::chrono_literals;
using hotstate::testing::eventually;
using hotstate::testing::redis_server;

namespace {

struct session : hotstate::category<1, "session"> {};
struct hits : hotstate::category<2, "hits", std::int64_t> {};
struct jobs : hotstate::category<3, "jobs"> {};
struct sender_rate : hotstate::category<4, "sender-rate", std::int64_t> {};
struct blocked : hotstate::category<5, "blocked"> {};

using test_store = hotstate::store<hotstate::backends::redis, session, hits, jobs, sender_rate, blocked>;
using manual_store =
    hotstate::store<hotstate::backends::basic_redis<hotstate::manual_clock>, session, hits, jobs, sender_rate, blocked>;

hotstate::redis::config config_for(const redis_server& server) {
    hotstate::redis::config settings;
    settings.url = server.url();
    settings.node = hotstate::testing::test_node(2s);
    return settings;
}

hotstate::errc kind_of(auto&& call) {
    try {
        call();
    } catch (const hotstate::error& e) {
        return e.kind();
    }
    return hotstate::errc{};
}

std::string message_of(auto&& call) {
    try {
        call();
    } catch (const hotstate::error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string text_of(const hotstate::testing::reply_ptr& reply) { return std::string(reply->str, reply->len); }

}  // namespace

TEST_CASE("redis: a server restart in the middle of a loop heals without user action", "[redis][outage]") {
    redis_server server;
    auto settings = config_for(server);
    settings.node.pool_timeout_create = 500ms;
    settings.node.timeout = 500ms;
    test_store s(settings);

    for (int i = 0; i < 20; ++i) CHECK(s.increment<hits>("loop") == i + 1);

    server.stop();
    int failures = 0;
    for (int i = 0; i < 5; ++i) {
        const auto kind = kind_of([&] { (void)s.increment<hits>("loop"); });
        CHECK((kind == hotstate::errc::connection || kind == hotstate::errc::timeout));
        if (kind != hotstate::errc{}) ++failures;
    }
    CHECK(failures == 5);
    const auto outage = message_of([&] { s.set<session>("k", "v"); });
    CHECK_THAT(outage, Catch::Contains(server.address()));
    CHECK_THAT(outage, Catch::Contains("session"));

    server.start();
    // no persistence: the counter starts over, and the store works again at once: the
    // first increment after the restart succeeds and is applied exactly once
    CHECK(s.increment<hits>("loop") == 1);
    for (int i = 0; i < 20; ++i) CHECK(s.increment<hits>("loop") == i + 2);
    CHECK(s.counter<hits>("loop") == 21);
}

TEST_CASE("redis: idle pooled connections that outlived a restart are replaced transparently", "[redis][outage]") {
    redis_server server;
    test_store s(config_for(server));
    // open several connections, then leave them idle
    std::vector<hotstate::redis::pool::lease> held;
    for (int i = 0; i < 3; ++i) held.push_back(s.backend().connections().acquire());
    held.clear();
    CHECK(s.backend().connections().open_connections() == 3);
    s.set<session>("before", "x");

    server.restart();
    // the server is back: no operation may fail because of the old sockets, and none
    // may be sent twice (the dead connections are found before anything is written)
    for (int i = 0; i < 10; ++i) CHECK_NOTHROW(s.set<session>("after-" + std::to_string(i), "y"));
    CHECK(s.get<session>("after-9") == "y");
    CHECK_FALSE(s.exists<session>("before"));

    for (int i = 0; i < 3; ++i) held.push_back(s.backend().connections().acquire());
    held.clear();
    server.restart();
    for (int i = 0; i < 10; ++i) CHECK(s.increment<hits>("after-restart") == i + 1);
}

TEST_CASE("redis: wrong credentials give an authentication error without the secret", "[redis][auth]") {
    redis_server server({.requirepass = "right-horse-battery", .acl_users = {"app on >app-secret-77 ~* &* +@all"}});
    auto settings = config_for(server);

    SECTION("wrong password in auth_secret") {
        settings.node.auth_secret = "wrong-staple-secret";
        test_store s(settings);
        const auto message = message_of([&] { s.set<session>("k", "v"); });
        CHECK(kind_of([&] { s.set<session>("k", "v"); }) == hotstate::errc::authentication);
        CHECK_THAT(message, Catch::Contains(server.address()));
        CHECK_THAT(message, Catch::Contains("AUTH"));
        CHECK_THAT(message, !Catch::Contains("wrong-staple-secret"));
        CHECK_THAT(message, !Catch::Contains("right-horse-battery"));
        CHECK(kind_of([&] { s.backend().ping(); }) == hotstate::errc::authentication);
    }
    SECTION("wrong password in the URL") {
        settings.url = "redis://:url-secret-99@" + server.address();
        test_store s(settings);
        const auto message = message_of([&] { s.backend().ping(); });
        CHECK_THAT(message, Catch::Contains("refused"));
        CHECK_THAT(message, !Catch::Contains("url-secret-99"));
    }
    SECTION("connect_on_start: the constructor finds the wrong password") {
        settings.node.auth_secret = "wrong-staple-secret";
        settings.connect_on_start = true;
        try {
            test_store s(settings);
            FAIL("constructing with a wrong password and connect_on_start must throw");
        } catch (const hotstate::error& e) {
            CHECK(e.kind() == hotstate::errc::authentication);
            CHECK_THAT(e.what(), !Catch::Contains("wrong-staple-secret"));
        }
        settings.node.auth_secret = "right-horse-battery";
        test_store ok(settings);
        CHECK(ok.backend().connections().open_connections() == 1);
    }
    SECTION("no password at all: NOAUTH is an authentication error") {
        test_store s(settings);
        CHECK(kind_of([&] { s.set<session>("k", "v"); }) == hotstate::errc::authentication);
    }
    SECTION("the right password, and an ACL user") {
        settings.node.auth_secret = "right-horse-battery";
        test_store s(settings);
        s.set<session>("k", "v");
        CHECK(s.get<session>("k") == "v");
        auto acl = config_for(server);
        acl.url = "redis://app:app-secret-77@" + server.address();
        test_store as_app(acl);
        CHECK(as_app.get<session>("k") == "v");
        auto wrong_user = config_for(server);
        wrong_user.node.auth_username = "app";
        wrong_user.node.auth_secret = "not-the-app-secret";
        test_store refused(wrong_user);
        const auto message = message_of([&] { refused.backend().ping(); });
        CHECK_THAT(message, Catch::Contains("user 'app'"));
        CHECK_THAT(message, !Catch::Contains("not-the-app-secret"));
    }
}

TEST_CASE("redis: WRONGTYPE and other server errors are typed and keep the server's message", "[redis][errors]") {
    redis_fixture fixture;
    test_store s(shared_redis_config());
    auto& server = shared_redis_server();
    const std::string key = hotstate::encode_key<session>("token-abc-123");
    server.command({"LPUSH", key, "x"});

    const auto message = message_of([&] { (void)s.get<session>("token-abc-123"); });
    CHECK(kind_of([&] { (void)s.get<session>("token-abc-123"); }) == hotstate::errc::wrong_type);
    CHECK_THAT(message, Catch::Contains("WRONGTYPE"));
    CHECK_THAT(message, Catch::Contains("session"));
    CHECK_THAT(message, Catch::Contains(server.address()));
    CHECK_THAT(message, !Catch::Contains("token-abc-123"));

    // through a script too
    server.command({"LPUSH", hotstate::encode_key<hits>("list"), "x"});
    CHECK(kind_of([&] { s.increment<hits>("list", 1, 10s); }) == hotstate::errc::wrong_type);
    server.command({"SET", hotstate::encode_key<jobs>("plain"), "x"});
    server.command({"HSET", hotstate::encode_key<sender_rate>("list"), "f", "v"});
    CHECK(kind_of([&] { (void)s.try_lock<jobs>("plain", 10s); }) == hotstate::errc::wrong_type);
    CHECK(kind_of([&] { (void)s.check_rate<sender_rate>("list", hotstate::gcra{1, 1s, 1}); }) == hotstate::errc::wrong_type);

    // a server error that is none of the above: a misconfigured server refusing writes
    server.command({"CONFIG", "SET", "maxmemory", "1"});
    const auto oom = kind_of([&] { s.set<session>("more", std::string(1000, 'x')); });
    server.command({"CONFIG", "SET", "maxmemory", "0"});
    CHECK(oom == hotstate::errc::memory_limit);
    // errors leave the connection usable
    s.set<session>("fine", "yes");
    CHECK(s.get<session>("fine") == "yes");
}

TEST_CASE("redis: NUL bytes and a 4 MiB value round-trip", "[redis][values]") {
    redis_fixture fixture;
    test_store s(shared_redis_config());
    const std::string key("k\0ey\xff", 5);
    const std::string value("\0\0a\0b\xff\0", 7);
    s.set<session>(key, value);
    CHECK(s.get<session>(key) == value);
    CHECK(text_of(shared_redis_server().command({"GET", hotstate::encode_key<session>(key)})) == value);

    std::string big(4u << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) % 256);
    s.set<session>("big", big);
    const auto back = s.get<session>("big");
    REQUIRE(back.has_value());
    CHECK(back->size() == big.size());
    CHECK(*back == big);
}

TEST_CASE("redis: an exhausted pool gives a timeout error after pool_timeout_wait", "[redis][pool]") {
    redis_fixture fixture;
    auto settings = shared_redis_config();
    settings.node.pool_max_connections = 2;
    settings.node.pool_timeout_wait = 300ms;
    test_store s(settings);
    auto first = s.backend().connections().acquire();
    auto second = s.backend().connections().acquire();

    const auto start = std::chrono::steady_clock::now();
    const auto message = message_of([&] { s.set<session>("k", "v"); });
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(kind_of([&] { s.set<session>("k", "v"); }) == hotstate::errc::timeout);
    CHECK_THAT(message, Catch::Contains("no free connection within 300ms"));
    CHECK_THAT(message, Catch::Contains(shared_redis_server().address()));
    CHECK(waited >= 300ms);
    CHECK(waited < 5s);

    // a connection given back wakes a waiter
    std::atomic<bool> done{false};
    std::atomic<bool> ok{false};
    std::thread waiter([&] {
        try {
            s.set<session>("k", "v");
            ok = true;
        } catch (...) {
        }
        done = true;
    });
    { auto release = std::move(first); }
    waiter.join();
    CHECK(done);
    CHECK(ok);
    CHECK(s.backend().connections().open_connections() == 2);
}

TEST_CASE("redis: a command timeout is a timeout error and the pool recovers", "[redis][pool]") {
    redis_server server;
    auto settings = config_for(server);
    settings.node.timeout = 300ms;
    test_store s(settings);
    s.set<session>("k", "v");
    server.child().signal(SIGSTOP);
    const auto kind = kind_of([&] { (void)s.get<session>("k"); });
    server.child().signal(SIGCONT);
    CHECK(kind == hotstate::errc::timeout);
    CHECK(eventually([&] {
        try {
            return s.get<session>("k") == "v";
        } catch (const hotstate::error&) {
            return false;
        }
    }));
}

TEST_CASE("redis: SCRIPT FLUSH between calls is invisible", "[redis][scripts]") {
    redis_fixture fixture;
    auto& server = shared_redis_server();
    test_store s(shared_redis_config());
    CHECK(s.increment<hits>("c", 1, 1min) == 1);
    auto first = s.try_lock<jobs>("task", 1min);
    REQUIRE(first.has_value());

    CHECK(s.check_rate<sender_rate>("ip", hotstate::gcra{10, 1s, 5}).allowed);
    server.command({"SCRIPT", "FLUSH"});
    CHECK(server.command({"SCRIPT", "EXISTS", hotstate::detail::redis::gcra_check.sha_view()})->element[0]->integer == 0);
    CHECK(s.check_rate<sender_rate>("ip", hotstate::gcra{10, 1s, 5}).remaining == 3);
    CHECK(server.command({"SCRIPT", "EXISTS", hotstate::detail::redis::gcra_check.sha_view()})->element[0]->integer == 1);
    CHECK(s.increment<hits>("c", 1, 1min) == 2);
    server.command({"SCRIPT", "FLUSH"});
    CHECK(first->release());
    server.command({"SCRIPT", "FLUSH"});
    CHECK(s.check_rate<sender_rate>("other-ip", hotstate::gcra{10, 1s, 2}).allowed);
    server.command({"SCRIPT", "FLUSH"});
    auto second = s.try_lock<jobs>("task", 1min);
    REQUIRE(second.has_value());
    CHECK(second->fencing_token() > first->fencing_token());
    server.command({"SCRIPT", "FLUSH"});
    CHECK(second->extend(2min));

    // the SHA-1s computed at compile time are the server's
    for (const auto* script : hotstate::detail::redis::all_scripts) {
        auto loaded = server.command({"SCRIPT", "LOAD", script->text});
        CHECK(text_of(loaded) == std::string(script->sha_view()));
    }
}

TEST_CASE("redis: keys, buckets, counters and locks are laid out as the seeds' system lays them out", "[redis][layout]") {
    redis_fixture fixture;
    auto& server = shared_redis_server();
    manual_store s(shared_redis_config(), fixture.clock);

    s.set<session>("abc", "payload", 1min);
    CHECK(text_of(server.command({"GET", std::string("\x01" "abc", 4)})) == "payload");
    const auto pttl = server.command({"PTTL", std::string("\x01" "abc", 4)})->integer;
    CHECK(pttl > 50'000);
    CHECK(pttl <= 60'000);

    s.increment<hits>("n", 5);
    CHECK(text_of(server.command({"GET", std::string("\x02" "n", 2)})) == "5");
    CHECK(server.command({"PTTL", std::string("\x02" "n", 2)})->integer == -1);
    s.increment<hits>("n", 1, 30s);
    CHECK(server.command({"PTTL", std::string("\x02" "n", 2)})->integer > 20'000);

    const hotstate::fixed_window policy{10, 60s};
    fixture.clock.set(hotstate::time_point{std::chrono::milliseconds{1'767'225'630'000}});  // mid-window
    s.check_rate<sender_rate>("user@example.org", policy);
    s.check_rate<sender_rate>("user@example.org", policy);
    const std::uint64_t window = 1'767'225'630'000ull / 60'000ull;
    std::string bucket = "\x04user@example.org";
    for (int shift = 56; shift >= 0; shift -= 8) bucket.push_back(static_cast<char>((window >> shift) & 0xff));
    CHECK(text_of(server.command({"GET", bucket})) == "2");
    const auto bucket_ttl = server.command({"PTTL", bucket})->integer;
    CHECK(bucket_ttl > 25'000);  // the time left in the window: 30 s
    CHECK(bucket_ttl <= 30'000);

    s.lookup_add<blocked>("domains", "spam.example");
    CHECK(server.command({"SISMEMBER", std::string("\x05" "domains"), "spam.example"})->integer == 1);
    s.lookup_set<blocked>("redirects", "t.co", "x");
    CHECK(text_of(server.command({"HGET", std::string("\x05" "redirects"), "t.co"})) == "x");

    auto held = s.try_lock<jobs>("purge", 1min);
    REQUIRE(held.has_value());
    const std::string lock_key = "\x03purge";
    // one hash: f = fence, h = holder, a field named by the holder's token while it holds
    CHECK(text_of(server.command({"HGET", lock_key, "h"})) == held->owner_token());
    CHECK(text_of(server.command({"HGET", lock_key, "f"})) == std::to_string(held->fencing_token()));
    CHECK(text_of(server.command({"HGET", lock_key, held->owner_token()})) == std::to_string(held->fencing_token()));
    const auto lock_ttl = server.command({"PTTL", lock_key})->integer;
    CHECK(lock_ttl > 50'000);  // the lease is the key's expiry
    CHECK(lock_ttl <= 60'000);
    const std::string token = held->owner_token();
    CHECK(held->release());
    CHECK(server.command({"HEXISTS", lock_key, token})->integer == 0);
    CHECK(text_of(server.command({"HGET", lock_key, "f"})) == std::to_string(held->fencing_token()));
}

TEST_CASE("redis: erase_all escapes glob characters and never uses KEYS", "[redis][kv]") {
    redis_fixture fixture;
    auto& server = shared_redis_server();
    test_store s(shared_redis_config());
    s.set<session>("a*b", "1");
    s.set<session>("a*c", "1");
    s.set<session>("axb", "1");
    s.set<session>("a?", "1");
    s.set<session>("a[x]", "1");
    s.set<session>(std::string("a\\\0z", 4), "1");
    for (int i = 0; i < 2500; ++i) s.set<session>("bulk:" + std::to_string(i), "v");
    server.command({"CONFIG", "RESETSTAT"});

    CHECK(s.erase_all<session>("a*") == 2);
    CHECK(s.exists<session>("axb"));
    CHECK(s.erase_all<session>("a?") == 1);
    CHECK(s.erase_all<session>("a[") == 1);
    CHECK(s.erase_all<session>(std::string("a\\\0", 3)) == 1);
    CHECK(s.erase_all<session>("bulk:") == 2500);
    CHECK(s.erase_all<session>() == 1);
    auto stats = server.command({"INFO", "commandstats"});
    const std::string info = text_of(stats);
    CHECK_THAT(info, Catch::Contains("cmdstat_scan"));
    CHECK_THAT(info, Catch::Contains("cmdstat_unlink"));
    CHECK_THAT(info, !Catch::Contains("cmdstat_keys"));
}

TEST_CASE("redis: Unix socket URL and database selection", "[redis][config]") {
    redis_server server({.unix_socket = true});
    hotstate::redis::config settings;
    settings.url = "unix://" + server.unix_socket_path().string() + "?db=3";
    test_store s(settings);
    s.set<session>("k", "in-db-3");
    CHECK(s.get<session>("k") == "in-db-3");
    CHECK(server.command({"EXISTS", hotstate::encode_key<session>("k")})->integer == 0);
    server.command({"SELECT", "3"});
    CHECK(text_of(server.command({"GET", hotstate::encode_key<session>("k")})) == "in-db-3");

    auto tcp = config_for(server);
    tcp.url = server.url() + "/5";
    test_store in_five(tcp);
    in_five.set<session>("k", "five");
    server.command({"SELECT", "5"});
    CHECK(text_of(server.command({"GET", hotstate::encode_key<session>("k")})) == "five");
}

TEST_CASE("redis: an unreachable server is a connection error naming the address", "[redis][errors]") {
    hotstate::redis::config settings;
    const auto port = hotstate::testing::free_port();  // nothing listens there
    settings.url = "redis://127.0.0.1:" + std::to_string(port);
    settings.node.pool_timeout_create = 1s;
    test_store s(settings);
    const auto message = message_of([&] { s.set<session>("k", "v"); });
    CHECK(kind_of([&] { s.set<session>("k", "v"); }) == hotstate::errc::connection);
    CHECK_THAT(message, Catch::Contains("127.0.0.1:" + std::to_string(port)));
    CHECK_THAT(message, Catch::Contains("connect"));
}

TEST_CASE("redis: many threads share the pool; counts are exact", "[redis][concurrency]") {
    redis_fixture fixture;
    auto settings = shared_redis_config();
    settings.node.pool_max_connections = 3;
    test_store s(settings);
    constexpr int threads = 8;
    constexpr int per_thread = 200;
    std::atomic<int> errors{0};
    std::atomic<int> locks_won{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (int i = 0; i < per_thread; ++i) {
                try {
                    s.increment<hits>("shared", 1, 1min);
                    if (auto held = s.try_lock<jobs>("single", 1min)) {
                        locks_won.fetch_add(1);
                        held->release();
                    }
                } catch (...) {
                    errors.fetch_add(1);
                }
            }
        });
    }
    for (auto& w : workers) w.join();
    CHECK(errors.load() == 0);
    CHECK(s.counter<hits>("shared") == threads * per_thread);
    CHECK(locks_won.load() >= 1);
    CHECK(s.backend().connections().open_connections() <= 3);
}

TEST_CASE("redis: idle connections older than pool_timeout_recycle are PINGed before reuse", "[redis][pool]") {
    redis_fixture fixture;
    auto& server = shared_redis_server();
    const auto pings = [&] {
        const std::string info = text_of(server.command({"INFO", "commandstats"}));
        return info.find("cmdstat_ping:") != std::string::npos;
    };
    // a store whose pool recycles after `recycle`, its connection used once, the server's counts reset
    const auto recycling_after = [&](std::chrono::milliseconds recycle) {
        auto settings = shared_redis_config();
        settings.node.pool_timeout_recycle = recycle;
        auto s = std::make_unique<test_store>(settings);
        s->set<session>("k", "v");
        server.command({"CONFIG", "RESETSTAT"});
        return s;
    };
    SECTION("recycle after 0 ms: a later checkout PINGs") {
        auto s = recycling_after(0ms);
        CHECK(eventually([&] {
            (void)s->get<session>("k");
            return pings();
        }));
    }
    SECTION("recycle after an hour: no PING") {
        auto s = recycling_after(1h);
        for (int i = 0; i < 50; ++i) (void)s->get<session>("k");
        CHECK_FALSE(pings());
    }
}

TEST_CASE("redis: a pooled connection the server closed is replaced without an error", "[redis][pool]") {
    redis_fixture fixture;
    auto& server = shared_redis_server();
    auto settings = shared_redis_config();
    settings.node.pool_max_connections = 1;
    test_store s(settings);
    const auto client_id = [&] {
        return s.backend().with_connection([](hotstate::redis::connection& c) { return c.checked("CLIENT", "CLIENT", "ID").integer(); });
    };
    const auto first = client_id();
    server.command({"CLIENT", "KILL", "ID", std::to_string(first)});
    CHECK_NOTHROW(s.set<session>("k", "v"));
    CHECK(s.get<session>("k") == "v");
    CHECK(client_id() != first);
    CHECK(s.backend().connections().open_connections() == 1);
}

TEST_CASE("redis: a value over the server's proto-max-bulk-len is a typed error, and the store keeps working", "[redis][values]") {
    redis_server server({.extra_config = {"proto-max-bulk-len 1mb"}});
    test_store s(config_for(server));
    s.set<session>("small", "fine");
    const std::string oversize(2u << 20, 'x');
    const auto message = message_of([&] { s.set<session>("secret-key-name", oversize); });
    const auto kind = kind_of([&] { s.set<session>("secret-key-name", oversize); });
    CHECK((kind == hotstate::errc::server || kind == hotstate::errc::connection));
    CHECK_THAT(message, Catch::Contains("session"));
    CHECK_THAT(message, !Catch::Contains("secret-key-name"));
    CHECK(s.get<session>("small") == "fine");
    CHECK_FALSE(s.exists<session>("secret-key-name"));
}

TEST_CASE("redis: threads keep working through a server restart", "[redis][outage][concurrency]") {
    redis_server server;
    auto settings = config_for(server);
    settings.node.pool_max_connections = 3;
    settings.node.timeout = 500ms;
    settings.node.pool_timeout_create = 500ms;
    test_store s(settings);
    constexpr int threads = 4;
    std::atomic<bool> stop{false};
    std::atomic<bool> restarted{false};
    std::atomic<int> ok{0}, outage_errors{0}, other_errors{0};
    std::array<std::atomic<int>, threads> ok_after_restart{};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            const std::string key = "worker-" + std::to_string(t);
            while (!stop.load()) {
                const bool after = restarted.load();
                try {
                    s.increment<hits>(key, 1, 1min);
                    (void)s.get<hits>(key);
                    ok.fetch_add(1);
                    if (after) ok_after_restart[static_cast<std::size_t>(t)].fetch_add(1);
                } catch (const hotstate::error& e) {
                    if (e.kind() == hotstate::errc::connection || e.kind() == hotstate::errc::timeout)
                        outage_errors.fetch_add(1);
                    else
                        other_errors.fetch_add(1);
                }
            }
        });
    }
    CHECK(eventually([&] { return ok.load() > 100; }));
    server.stop();
    CHECK(eventually([&] { return outage_errors.load() > 10; }));
    server.start();
    restarted = true;
    // every thread, not just some, gets going again
    CHECK(eventually([&] {
        for (const auto& count : ok_after_restart)
            if (count.load() < 20) return false;
        return true;
    }));
    stop = true;
    for (auto& w : workers) w.join();
    CHECK(other_errors.load() == 0);
    CHECK(s.backend().connections().open_connections() <= 3);
    for (int t = 0; t < threads; ++t) CHECK(s.counter<hits>("worker-" + std::to_string(t)) >= 20);
}

TEST_CASE("redis: writing to a server that died is an error, never a SIGPIPE", "[redis][outage]") {
    redis_server server;
    auto settings = config_for(server);
    settings.node.pool_timeout_create = 500ms;
    test_store s(settings);
    s.set<session>("k", "v");  // leaves an idle connection to the doomed server
    server.kill();
    // a big value takes several writes: the later ones hit the peer's reset
    const std::string big(8u << 20, 'x');
    const auto kind = kind_of([&] { s.set<session>("big", big); });
    CHECK((kind == hotstate::errc::connection || kind == hotstate::errc::timeout));
    server.start();
    CHECK(eventually([&] {
        try {
            s.set<session>("big", big);
            return true;
        } catch (const hotstate::error&) {
            return false;
        }
    }));
    CHECK(s.get<session>("big")->size() == big.size());
}

TEST_CASE("redis: AUTH and SELECT are replayed on every new connection, TCP keep-alive is on", "[redis][pool]") {
    redis_server server({.requirepass = "replay-secret"});
    auto settings = config_for(server);
    settings.url = "redis://:replay-secret@" + server.address() + "/2";
    test_store s(settings);
    s.set<session>("before", "1");
    server.restart();
    s.set<session>("after", "2");  // a new connection after the restart: AUTH and SELECT 2 again
    server.command({"SELECT", "2"});
    CHECK(text_of(server.command({"GET", hotstate::encode_key<session>("after")})) == "2");

    const auto keepalive = [](test_store& store) {
        return store.backend().with_connection([](hotstate::redis::connection& c) {
            int on = 0;
            socklen_t size = sizeof on;
            ::getsockopt(c.native_handle(), SOL_SOCKET, SO_KEEPALIVE, &on, &size);
            return on;
        });
    };
    CHECK(keepalive(s) != 0);
    settings.node.tcp_keepalive = false;
    test_store without(settings);
    CHECK(keepalive(without) == 0);
}
