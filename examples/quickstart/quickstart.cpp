// A mail server's morning on the embedded backend: rate limits, fail2ban,
// OAuth codes, ACME tokens, a task lock, greylisting and a blocked-domains list.
// The clock is a manual one so the story is the same on every run.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

#include <hotstate/hotstate.hpp>

using namespace std::chrono_literals;
namespace cat = hotstate::categories;

// A category of our own, next to the stock ones: failed logins per IP.
struct failed_logins : hotstate::category<40, "failed-logins", std::int64_t> {};
// Lookups live in their own category; each list is a namespace inside it.
struct lists : hotstate::category<41, "lists"> {};

using mail_store = hotstate::store<hotstate::backends::basic_memory<hotstate::manual_clock>, cat::rate_limit_rcpt,
                                   cat::oauth, cat::acme, cat::lock_task, cat::greylist, failed_logins, lists>;

int main() {
    hotstate::manual_clock clock{hotstate::time_point{std::chrono::milliseconds{1767254400000}}};  // 2026-01-01 08:00Z
    mail_store store(hotstate::backends::memory_config{}, clock);

    std::cout << "== 08:00 recipient rate limit: 3 messages a minute for bob@example.org\n";
    const hotstate::fixed_window per_minute{3, 1min};
    for (int message = 1; message <= 4; ++message) {
        const auto decision = store.check_rate<cat::rate_limit_rcpt>("bob@example.org", per_minute);
        if (decision)
            std::cout << "   message " << message << ": accepted, " << decision.remaining << " left this minute\n";
        else
            std::cout << "   message " << message << ": 451 try again in "
                      << std::chrono::duration_cast<std::chrono::seconds>(decision.retry_after).count() << " s\n";
    }

    std::cout << "== 08:01 fail2ban: an IP is blocked after 5 failed logins in an hour\n";
    for (int attempt = 1; attempt <= 6; ++attempt) {
        const auto failures = store.increment<failed_logins>("203.0.113.9", 1, 1h);
        if (failures >= 5) {
            std::cout << "   failure " << failures << ": 203.0.113.9 blocked\n";
            break;
        }
        std::cout << "   failure " << failures << ": still allowed\n";
    }

    std::cout << "== 08:02 OAuth: a code is issued for 10 minutes and redeemed once\n";
    store.set<cat::oauth>("c0de-42", "client=webmail;account=alice", 10min);
    for (const char* who : {"webmail", "replayed request"}) {
        // take: get and delete in one step, so of any number of concurrent redeemers exactly one wins
        const auto grant = store.take<cat::oauth>("c0de-42");
        std::cout << "   " << who << ": " << (grant ? "redeemed (" + *grant + ")" : std::string("refused, code used"))
                  << "\n";
    }

    std::cout << "== 08:03 ACME: the http-01 challenge token is served until it expires\n";
    store.set<cat::acme>("token-Xy7", "Xy7.thumbprint", 5min);
    std::cout << "   /.well-known/acme-challenge/token-Xy7 -> " << store.get<cat::acme>("token-Xy7").value_or("404")
              << "\n";
    clock.advance(6min);
    std::cout << "   six minutes later -> " << store.get<cat::acme>("token-Xy7").value_or("404") << "\n";

    std::cout << "== 08:09 task lock: only one worker purges accounts\n";
    auto first = store.try_lock<cat::lock_task>("purge-accounts", 30s);
    auto second = store.try_lock<cat::lock_task>("purge-accounts", 30s);
    std::cout << "   worker A: " << (first ? "runs the purge (fencing token " + std::to_string(first->fencing_token()) + ")"
                                           : std::string("waits"))
              << "\n   worker B: " << (second ? "runs the purge" : "sees the lock taken, skips") << "\n";
    first.reset();
    std::cout << "   worker A done; worker B now "
              << (store.try_lock<cat::lock_task>("purge-accounts", 30s) ? "gets the lock" : "still waits") << "\n";

    std::cout << "== 08:10 greylisting: first attempt deferred, retry after 5 minutes accepted\n";
    const std::string triplet = "198.51.100.7|carol@example.net|dave@example.org";
    for (int attempt = 1; attempt <= 2; ++attempt) {
        const bool known = store.exists<cat::greylist>(triplet);
        if (!known) store.set<cat::greylist>(triplet, "seen", 24h);
        std::cout << "   attempt " << attempt << ": " << (known ? "250 accepted" : "451 greylisted, come back later")
                  << "\n";
        clock.advance(5min);
    }

    std::cout << "== 08:20 blocked-domains lookup\n";
    store.lookup_add<lists>("blocked-domains", "spam.example");
    store.lookup_add<lists>("blocked-domains", "junk.example");
    for (const char* domain : {"spam.example", "example.org"})
        std::cout << "   " << domain << ": "
                  << (store.lookup_contains<lists>("blocked-domains", domain) ? "rejected" : "accepted") << "\n";
    std::cout << "== good morning: " << store.backend().entry_count() << " entries in the embedded store\n";
    return 0;
}
