// A mail server's login path on the asynchronous store: many simulated clients
// log in concurrently as Asio coroutines on one io_context, sharing one
// multiplexed Redis connection. Each attempt:
//   1. refuses an IP on the blocklist (a lookup set, SISMEMBER),
//   2. rate-limits the IP with GCRA (one script call),
//   3. counts a failed password in a fail2ban counter (INCRBY with a 1 h expiry)
//      and blocklists the IP at 5 failures,
//   4. on success, issues an OAuth code (SET with a 10 min expiry) that the
//      client redeems once with `take` (GETDEL): a replay finds nothing.
//
//   async_login redis://host:port
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>
#include <hotstate/categories.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;
namespace cat = hotstate::categories;

struct failed_logins : hotstate::category<40, "failed-logins", std::int64_t> {};
struct blocklist : hotstate::category<41, "blocklist"> {};
using login_store = hotstate::async_store<hotstate::backends::async_redis, cat::rate_limit_auth, failed_logins, blocklist,
                                          cat::oauth>;

struct totals {
    int logged_in = 0, redeemed = 0, replays_refused = 0, rate_limited = 0, banned = 0, refused_banned = 0;
};

/// One login attempt of `user` from `ip`; true when it succeeded.
asio::awaitable<bool> attempt(login_store& store, totals& t, const std::string& ip, const std::string& user,
                              bool password_ok) {
    auto use = asio::use_awaitable;
    if (co_await store.async_lookup_contains<blocklist>("ips", ip, use)) {
        ++t.refused_banned;
        co_return false;
    }
    const auto rate = co_await store.async_check_rate<cat::rate_limit_auth>(ip, hotstate::gcra{20, 1s, 10}, 1, use);
    if (!rate) {
        ++t.rate_limited;
        co_return false;
    }
    if (!password_ok) {
        if (co_await store.async_increment<failed_logins>(ip, 1, 1h, use) == 5) {
            co_await store.async_lookup_add<blocklist>("ips", ip, use);
            ++t.banned;
        }
        co_return false;
    }
    ++t.logged_in;
    const std::string code = "code-for-" + user;
    co_await store.async_set<cat::oauth>(code, "grant:" + user, 10min, use);
    if (co_await store.async_take<cat::oauth>(code, use)) ++t.redeemed;           // the client redeems it
    if (!co_await store.async_take<cat::oauth>(code, use)) ++t.replays_refused;   // a replay finds nothing
    co_return true;
}

/// A client: an attacker guesses 8 wrong passwords; a user mistypes once, then logs in.
asio::awaitable<void> client(login_store& store, totals& t, int id, int& running) {
    const std::string ip = "198.51.100." + std::to_string(id);
    const bool attacker = id % 10 == 0;
    try {
        for (int i = 0; i < (attacker ? 8 : 2); ++i)
            if (co_await attempt(store, t, ip, "user" + std::to_string(id), !attacker && i == 1)) break;
    } catch (const hotstate::error& e) {
        std::cout << "client " << id << ": " << e.what() << "\n";
    }
    if (--running == 0) store.close();  // the last client is done: io.run() returns once the connection's loops end
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " redis://host:port\n";
        return 2;
    }
    asio::io_context io;
    login_store store(io.get_executor(), hotstate::redis::config{.url = argv[1]});
    constexpr int clients = 200;
    totals t;
    int running = clients;
    for (int id = 0; id < clients; ++id) asio::co_spawn(io, client(store, t, id, running), asio::detached);
    io.run();  // one thread: the counters above need no lock
    std::cout << "logged in " << t.logged_in << ", OAuth codes redeemed " << t.redeemed << ", replays refused "
              << t.replays_refused << ", IPs banned " << t.banned << ", attempts refused while banned "
              << t.refused_banned << ", rate limited " << t.rate_limited << "\n";
    const bool as_expected = t.logged_in == 180 && t.redeemed == 180 && t.replays_refused == 180 && t.banned == 20;
    std::cout << (as_expected ? "login path: as expected\n" : "login path: UNEXPECTED\n");
    return as_expected ? 0 : 1;
}
