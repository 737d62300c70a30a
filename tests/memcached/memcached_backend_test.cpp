// The memcached backend against real memcached servers, beyond the laws:
// keys memcached forbids, values at and past the item size limit, a Unix
// socket, processes racing take and locks (exactly one winner), connections
// cut mid-request (at most once), a restart under load (recovers).
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/backends/memcached.hpp>
#include <hotstate/redis/tls.hpp>  // TLS support in this program (memcacheds://)
#include <hotstate/store.hpp>

#include "support/dropping_proxy.hpp"
#include "support/errors.hpp"
#include "support/eventually.hpp"
#include "support/memcached_server.hpp"
#include "support/tls_certs.hpp"

namespace {

using namespace std::chrono_literals;
using hotstate::testing::error_of;
using hotstate::testing::eventually;
using hotstate::testing::memcached_server;

struct tokens : hotstate::category<1, "mc-tokens"> {};
struct hits : hotstate::category<2, "mc-hits", std::int64_t> {};
struct jobs : hotstate::category<3, "mc-jobs"> {};
using store_type = hotstate::store<hotstate::backends::memcached, tokens, hits, jobs>;

hotstate::backends::memcached_config config_for(std::string url) {
    hotstate::backends::memcached_config settings;
    settings.urls = {std::move(url)};
    settings.timeout = 2s;
    return settings;
}

}  // namespace

TEST_CASE("memcached: keys it forbids are sent base64-encoded, or refused whole: never truncated", "[memcached]") {
    memcached_server server;
    store_type s(config_for(server.url()));

    const std::string spaced = "a key with spaces\r\nand a line break";
    s.set<tokens>(spaced, "v1");
    CHECK(s.get<tokens>(spaced) == "v1");
    CHECK_FALSE(s.exists<tokens>("a key with spaces"));

    // the category byte makes every key one byte longer
    const std::string longest_binary(185, '\x01');
    s.set<tokens>(longest_binary, "v2");
    CHECK(s.get<tokens>(longest_binary) == "v2");
    const std::string too_long_binary(186, '\x01');
    auto e = error_of([&] { s.set<tokens>(too_long_binary, "v"); });
    CHECK(e.kind() == hotstate::errc::invalid_argument);
    CHECK_THAT(e.what(), Catch::Contains("the key is 187 bytes") && Catch::Contains("never truncates") &&
                             Catch::Contains("mc-tokens"));

    // a category byte that is printable: the whole key goes as text up to 250 bytes
    struct printable : hotstate::category<'p', "mc-printable"> {};
    hotstate::store<hotstate::backends::memcached, printable> text_store(config_for(server.url()));
    const std::string longest_text(249, 'k');
    text_store.set<printable>(longest_text, "v3");
    CHECK(text_store.get<printable>(longest_text) == "v3");
    CHECK(error_of([&] { text_store.set<printable>(longest_text + "k", "v"); }).kind() ==
          hotstate::errc::invalid_argument);
    // one key, two spellings: a key that had to be base64 is found by its bytes
    CHECK(server.command("mg " + std::string(1, 'p') + longest_text + " v").starts_with("VA 2"));
}

TEST_CASE("memcached: values up to the item size limit round-trip; a larger one is a clear error", "[memcached]") {
    memcached_server server({.item_size_max = "2m"});
    store_type s(config_for(server.url()));
    std::string big(1536 * 1024, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
    s.set<tokens>("big", big);
    CHECK(s.get<tokens>("big") == big);
    CHECK(s.take<tokens>("big") == big);

    const std::string too_big(3 * 1024 * 1024, 'x');
    const auto e = error_of([&] { s.set<tokens>("too-big", too_big); });
    CHECK(e.kind() == hotstate::errc::invalid_argument);
    CHECK_FALSE(e.outcome_unknown());
    CHECK_THAT(e.what(), Catch::Contains("larger than the server's item size limit") && Catch::Contains("mc-tokens"));
    // the connection is still in step
    s.set<tokens>("after", "ok");
    CHECK(s.get<tokens>("after") == "ok");
    CHECK_FALSE(s.exists<tokens>("too-big"));
}

TEST_CASE("memcached: over a Unix socket", "[memcached]") {
    memcached_server server({.unix_socket = true});
    store_type s(config_for(server.unix_url()));
    s.set<tokens>("k", "over the socket");
    CHECK(s.get<tokens>("k") == "over the socket");
    CHECK(s.increment<hits>("n", 3) == 3);
}

TEST_CASE("memcached: over TLS (memcacheds://), the server verified against the configured CA", "[memcached][tls]") {
    hotstate::testing::tls_certs certs;
    memcached_server server({.tls_cert = certs.server_cert(), .tls_key = certs.server_key()});
    hotstate::backends::memcached_config settings = config_for(server.tls_url());
    settings.tls.ca_file = certs.ca();
    store_type s(settings);
    s.set<tokens>("k", "over TLS");
    CHECK(s.get<tokens>("k") == "over TLS");
    CHECK(s.increment<hits>("n", 2) == 2);

    settings.tls.ca_file = certs.other_ca();
    store_type untrusting(settings);
    const auto e = error_of([&] { (void)untrusting.get<tokens>("k"); });
    CHECK(e.kind() == hotstate::errc::connection);
    CHECK_THAT(e.what(), Catch::Contains("memcached 127.0.0.1") && Catch::Contains("verif"));
}

TEST_CASE("memcached: URLs are checked when the backend is made", "[memcached]") {
    using hotstate::backends::parse_memcached_url;
    const auto tcp = parse_memcached_url("memcached://cache.example:11300");
    CHECK(tcp.host == "cache.example");
    CHECK(tcp.port == 11300);
    CHECK(parse_memcached_url("memcached://cache.example").port == 11211);
    const auto v6 = parse_memcached_url("memcached://[::1]:11212");
    CHECK(v6.host == "::1");
    CHECK(v6.port == 11212);
    CHECK(parse_memcached_url("memcacheds://cache.example:11211").tls.enabled);
    CHECK(parse_memcached_url("unix:///run/memcached.sock").path == "/run/memcached.sock");
    for (const char* bad : {"cache.example:11211", "redis://cache.example", "memcached://user:pw@cache.example",
                            "memcached://cache.example:0", "memcached://cache.example/2", "memcached://",
                            "unix://relative.sock"}) {
        INFO(bad);
        const auto e = error_of([&] { (void)parse_memcached_url(bad); });
        CHECK(e.kind() == hotstate::errc::configuration);
        CHECK_THAT(e.what(), Catch::Contains("memcached URL"));
    }
}

namespace {

/// Runs `body(index)` in `count` child processes, each starting when the parent
/// writes to their shared pipe; returns what each wrote back (one line each).
template <class Body>
std::vector<std::string> race_in_processes(int count, Body body) {
    int go[2];
    int results[2];
    REQUIRE(::pipe(go) == 0);
    REQUIRE(::pipe(results) == 0);
    std::vector<pid_t> children;
    for (int i = 0; i < count; ++i) {
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            ::close(go[1]);
            ::close(results[0]);
            char start = 0;
            if (::read(go[0], &start, 1) != 1) ::_exit(2);
            std::string line;
            try {
                line = body(i);
            } catch (const std::exception& e) {
                line = std::string("error: ") + e.what();
            }
            line += "\n";
            // one write per child, under PIPE_BUF for short lines: never interleaved
            const bool ok = ::write(results[1], line.data(), line.size()) == static_cast<ssize_t>(line.size());
            ::_exit(ok ? 0 : 3);
        }
        children.push_back(child);
    }
    ::close(go[0]);
    ::close(results[1]);
    const std::string starts(static_cast<std::size_t>(count), 'g');
    REQUIRE(::write(go[1], starts.data(), starts.size()) == count);  // every child starts at once
    ::close(go[1]);
    std::string all;
    char buffer[4096];
    for (ssize_t got; (got = ::read(results[0], buffer, sizeof buffer)) > 0;) all.append(buffer, static_cast<std::size_t>(got));
    ::close(results[0]);
    for (const pid_t child : children) {
        int status = 0;
        ::waitpid(child, &status, 0);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
    std::vector<std::string> lines;
    for (std::size_t at = 0; at < all.size();) {
        const auto end = all.find('\n', at);
        lines.push_back(all.substr(at, end - at));
        at = end + 1;
    }
    return lines;
}

}  // namespace

TEST_CASE("memcached: processes racing take and locks: exactly one winner each", "[memcached][race]") {
    memcached_server server;
    constexpr int processes = 4;
    constexpr int keys = 100;
    {
        store_type s(config_for(server.url()));
        for (int k = 0; k < keys; ++k) s.set<tokens>("code-" + std::to_string(k), "payload-" + std::to_string(k));
    }
    // each process takes every code and tries every lock; it reports what it won as a bitmap
    const auto lines = race_in_processes(processes, [&](int index) {
        store_type s(config_for(server.url()));
        std::string taken(keys, '0');
        std::string locked(keys, '0');
        const std::string owner = "owner-" + std::to_string(index);
        for (int k = 0; k < keys; ++k) {
            const auto got = s.take<tokens>("code-" + std::to_string(k));
            if (got) taken[static_cast<std::size_t>(k)] = *got == "payload-" + std::to_string(k) ? '1' : 'X';
            // the backend's acquire: a store's lock would be released by its destructor,
            // and a process still racing could then win it too
            const auto fence = s.backend().lock_acquire(hotstate::encode_key<jobs>("job-" + std::to_string(k)), owner, 10min);
            if (fence) locked[static_cast<std::size_t>(k)] = '1';
        }
        return taken + " " + locked;
    });
    REQUIRE(lines.size() == processes);
    std::vector<int> take_winners(keys, 0), lock_winners(keys, 0);
    for (const auto& line : lines) {
        INFO(line);
        REQUIRE(line.size() == 2 * keys + 1);
        for (int k = 0; k < keys; ++k) {
            CHECK(line[static_cast<std::size_t>(k)] != 'X');
            take_winners[static_cast<std::size_t>(k)] += line[static_cast<std::size_t>(k)] == '1';
            lock_winners[static_cast<std::size_t>(k)] += line[static_cast<std::size_t>(keys + 1 + k)] == '1';
        }
    }
    for (int k = 0; k < keys; ++k) {
        INFO("key " << k);
        CHECK(take_winners[static_cast<std::size_t>(k)] == 1);
        CHECK(lock_winners[static_cast<std::size_t>(k)] == 1);
    }
}

TEST_CASE("memcached: connections cut mid-request: an increment never counts twice", "[memcached][at-most-once]") {
    memcached_server server;
    hotstate::testing::dropping_proxy proxy(server.port());
    store_type s(config_for("memcached://127.0.0.1:" + std::to_string(proxy.port())));
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> progress{0};
    std::thread cutter([&] {
        // cuts every connection after each few operations: some cuts land mid-request
        std::uint64_t seen = 0;
        while (!done.load()) {
            const std::uint64_t now = progress.load();
            if (now >= seen + 3) {
                seen = now;
                proxy.drop_all();
            }
            std::this_thread::yield();
        }
    });
    std::int64_t acknowledged = 0, unknown = 0, not_applied = 0;
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < until || unknown == 0) {
        if (std::chrono::steady_clock::now() > until + 20s) break;
        try {
            (void)s.increment<hits>("counted");
            ++acknowledged;
        } catch (const hotstate::error& e) {
            REQUIRE((e.kind() == hotstate::errc::connection || e.kind() == hotstate::errc::timeout));
            if (e.outcome_unknown()) {
                ++unknown;
                CHECK_THAT(e.what(), Catch::Contains("outcome unknown") && Catch::Contains("memcached"));
            } else {
                ++not_applied;
            }
        }
        progress.fetch_add(1);
    }
    done.store(true);
    cutter.join();
    // read by a connection the proxy never saw
    const std::string raw = server.command("mg " + std::string("\x02", 1) + "counted v");
    std::int64_t final_value = 0;
    if (raw.starts_with("VA")) final_value = std::stoll(raw.substr(raw.find("\r\n") + 2));
    std::cout << "memcached increments under cut connections: " << proxy.drops() << " cut, " << acknowledged
              << " acknowledged, " << unknown << " outcome unknown, " << not_applied
              << " failed before the write; counter " << final_value << "\n";
    CHECK(unknown > 0);
    CHECK(acknowledged > 100);
    CHECK(final_value >= acknowledged);
    CHECK(final_value <= acknowledged + unknown);
}

TEST_CASE("memcached: a restart heals idle connections before anything is sent, and recovers under load",
          "[memcached][restart]") {
    memcached_server server;
    hotstate::backends::memcached_config settings = config_for(server.url());
    settings.pool_max_connections = 4;
    store_type s(settings);

    SECTION("idle connections closed by a restart are replaced before a non-idempotent request is written") {
        CHECK(s.increment<hits>("n") == 1);
        server.restart();
        // the pool's probe sees the closed socket: the increment goes to a new connection, once
        CHECK(s.increment<hits>("n") == 1);
        CHECK(s.increment<hits>("n") == 2);
    }
    SECTION("under load from several threads: errors are typed, service comes back, nothing counts twice") {
        std::atomic<bool> stop{false};
        std::atomic<bool> unexpected{false};
        std::atomic<std::int64_t> increments{0}, unknown{0}, refused{0};
        std::vector<std::thread> workers;
        for (int t = 0; t < 3; ++t) {
            workers.emplace_back([&, t] {
                const std::string mine = "v" + std::to_string(t);
                while (!stop.load()) {
                    try {
                        (void)s.increment<hits>("load");
                        increments.fetch_add(1);
                        s.set<tokens>(mine, mine);
                        const auto read = s.get<tokens>(mine);
                        if (read && *read != mine) unexpected.store(true);  // (a restart in between empties it)
                    } catch (const hotstate::error& e) {
                        if (e.kind() != hotstate::errc::connection && e.kind() != hotstate::errc::timeout)
                            unexpected.store(true);
                        (e.outcome_unknown() ? unknown : refused).fetch_add(1);
                    }
                }
            });
        }
        REQUIRE(eventually([&] { return increments.load() > 200; }));
        const auto before_restart = increments.load();
        server.restart();
        const auto after_restart = increments.load();
        // service comes back by itself: no call to the backend to heal it
        CHECK(eventually([&] { return increments.load() > after_restart + 200; }, 20s));
        stop.store(true);
        for (auto& worker : workers) worker.join();
        CHECK_FALSE(unexpected.load());
        std::cout << "memcached restart under load: " << before_restart << " increments before, "
                  << increments.load() - after_restart << " after, " << unknown.load() << " outcome unknown, "
                  << refused.load() << " refused\n";
        // the counter restarted empty. Every increment acknowledged after the restart
        // returned counted on the new server; any that counted there was acknowledged
        // after the restart began or ended outcome unknown: nothing counted twice
        const std::string raw = server.command("mg " + std::string("\x02", 1) + "load v");
        REQUIRE(raw.starts_with("VA"));
        const auto final_value = std::stoll(raw.substr(raw.find("\r\n") + 2));
        CHECK(final_value >= increments.load() - after_restart);
        CHECK(final_value <= increments.load() - before_restart + unknown.load());
    }
}

TEST_CASE("memcached: several servers in one backend, each key on the server xxh3_64(key) % n names",
          "[memcached][sharded]") {
    memcached_server first;
    memcached_server second;
    hotstate::backends::memcached_config settings = config_for(first.url());
    settings.urls.push_back(second.url());
    store_type s(settings);
    REQUIRE(s.backend().server_count() == 2);
    int on_first = 0;
    for (int i = 0; i < 100; ++i) {
        const std::string key = "k" + std::to_string(i);
        s.set<tokens>(key, "v");
        CHECK(s.increment<hits>(key) == 1);
        const std::string encoded = hotstate::encode_key<tokens>(key);
        const std::size_t server = s.backend().server_of(encoded);
        CHECK(server == hotstate::backends::shard_of(encoded, 2));
        auto& holder = server == 0 ? first : second;
        auto& other = server == 0 ? second : first;
        CHECK(holder.command("mg " + std::string("\x01", 1) + key).starts_with("HD"));
        CHECK(other.command("mg " + std::string("\x01", 1) + key).starts_with("EN"));
        on_first += server == 0;
    }
    CHECK(on_first > 20);
    CHECK(on_first < 80);
    CHECK(error_of([] { hotstate::backends::memcached(hotstate::backends::memcached_config{.urls = {}}); }).kind() ==
          hotstate::errc::configuration);
}
