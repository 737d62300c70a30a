// The Redis backend against the reference model: the same random sequence of
// backend operations must give the same answers (values, counts, GCRA
// decisions, lock outcomes, and the kind of every error) from basic_redis as
// from basic_memory. Time stays out of it where the two keep it differently:
// TTLs are 0 or an hour, leases an hour, and fencing tokens (server TIME here,
// the manual clock there) are compared only for growth.
//
// Redis's lock acquire is idempotent so that a request whose reply was lost can
// be sent again (the embedded backend never needs to): the live holder
// re-acquiring gets its lease renewed and its fence back. The model adds exactly
// that on top of the embedded backend (`lock_model`), nothing else. (A release
// sent again is another command, tested in redis_at_most_once_test.cpp.)
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/backends/memory.hpp>
#include <hotstate/backends/redis.hpp>

#include "redis/redis_fixture.hpp"

using namespace std::chrono_literals;

namespace {

template <class F>
std::string outcome(F&& call) {
    try {
        return "ok " + call();
    } catch (const hotstate::error& e) {
        return "error " + std::to_string(static_cast<int>(e.kind()));
    }
}

std::string show(bool value) { return value ? "true" : "false"; }
std::string show(std::int64_t value) { return std::to_string(value); }
std::string show(std::uint64_t value) { return std::to_string(value); }
std::string show(const hotstate::rate_decision& d) {
    return show(d.allowed) + "/" + std::to_string(d.retry_after.count()) + "/" + std::to_string(d.remaining);
}

/// The idempotent acquire of the Redis lock over the embedded backend.
struct lock_model {
    bool reacquired = false;  // the last acquire was the holder's own again

    template <class B>
    std::optional<std::uint64_t> acquire(B& b, const std::string& key, const std::string& owner,
                                         std::chrono::milliseconds lease) {
        // the holder's own acquire renews the lease: what extend does, for a live lease only
        reacquired = !owner.empty() && b.lock_extend(key, owner, lease);
        if (reacquired) return 0;  // the fence stays what it was (compared on the Redis side)
        return b.lock_acquire(key, owner, lease);
    }
    template <class B>
    bool release(B& b, const std::string& key, const std::string& owner) {
        return b.lock_release(key, owner);
    }
};

struct step {
    int op;
    std::string key, member, value;
    std::int64_t number;
    std::chrono::milliseconds span;

    /// The operation on `b`; `model` adds the Redis lock semantics to the embedded backend.
    template <class B>
    std::string apply(B& b, std::optional<std::uint64_t>* fence = nullptr, lock_model* model = nullptr) const {
        switch (op) {
            case 0: return outcome([&] { b.kv_set(key, value, span); return std::string(); });
            case 1: return outcome([&] {
                std::string got = "missing";
                b.kv_get(key, [&](std::string_view bytes) { got = "value:" + std::string(bytes); });
                return got;
            });
            case 2: return outcome([&] { return show(b.kv_del(key)); });
            case 3: return outcome([&] { return show(b.kv_exists(key)); });
            case 4: return outcome([&] { return show(b.kv_del_prefix(key.substr(0, 1))); });
            case 5: return outcome([&] { return show(b.counter_incr(key, number, span)); });
            case 6: return outcome([&] { return show(b.counter_get(key)); });
            case 7: return outcome([&] {
                return show(b.gcra_check(key, hotstate::rate_math::gcra_parameters_of(hotstate::gcra{5, 1s, 3}),
                                         1 + (number & 1)));
            });
            case 8: return outcome([&] {
                const auto got = model ? model->acquire(b, key, member, 1h) : b.lock_acquire(key, member, 1h);
                if (fence) *fence = got;
                return std::string(got ? "acquired" : "held");
            });
            case 9: return outcome([&] {
                return show(model ? model->release(b, key, member) : b.lock_release(key, member));
            });
            case 10: return outcome([&] { return show(b.lock_extend(key, member, 1h)); });
            case 11: return outcome([&] { return show(b.set_add(key, member)); });
            case 12: return outcome([&] { return show(b.set_remove(key, member)); });
            case 13: return outcome([&] { return show(b.set_contains(key, member)); });
            case 14: return outcome([&] { b.map_set(key, member, value); return std::string(); });
            case 15: return outcome([&] {
                std::string got = "missing";
                b.map_get(key, member, [&](std::string_view bytes) { got = "value:" + std::string(bytes); });
                return got;
            });
            default: return outcome([&] { return show(b.map_remove(key, member)); });
        }
    }
};

}  // namespace

TEST_CASE("redis: random operations answer exactly as the embedded reference backend", "[redis][differential]") {
    const auto seed = GENERATE(1u, 2u, 3u);
    redis_fixture fixture;  // flushes the shared server
    std::mt19937_64 random(seed);
    const auto pick = [&](auto n) { return static_cast<decltype(n)>(random() % static_cast<std::uint64_t>(n)); };

    hotstate::manual_clock clock;
    hotstate::backends::basic_redis<hotstate::manual_clock> redis(shared_redis_config(), clock);
    hotstate::backends::basic_memory<hotstate::manual_clock> reference({}, clock);

    // few keys, so kinds collide often; shared first bytes; NUL and 0xff included.
    // A lock is a hash on Redis, so lock keys and key-value lookups never share a key.
    // GCRA schedules expire by the manual clock in the model and by real time (plus
    // slack) on the server, so they have keys of their own.
    const std::vector<std::string> keys = {"a1", "a2", "b1", std::string("\xff\x00", 2), "\xff" "z", "c"};
    const std::vector<std::string> map_keys = {"m1", "m2"};
    const std::vector<std::string> gcra_keys = {"g1", "g2"};
    const std::vector<std::string> owners = {"owner-1", "owner-2", ""};
    const std::vector<std::string> values = {"12", "-3", "abc", "", std::string("x\0y", 3), "0"};
    const std::vector<std::int64_t> amounts = {1, 5, -2, std::numeric_limits<std::int64_t>::max(),
                                               std::numeric_limits<std::int64_t>::min()};
    const std::vector<std::chrono::milliseconds> spans = {0ms, 0ms, 1h};

    std::map<std::string, std::uint64_t> last_fence;
    lock_model model;
    int compared = 0;
    for (int i = 0; i < 2000; ++i) {
        const int op = pick(17);
        const auto& pool = op >= 14 ? map_keys : op == 7 ? gcra_keys : keys;
        const step s{op, pool[pick(pool.size())], owners[pick(owners.size())], values[pick(values.size())],
                     amounts[pick(amounts.size())], spans[pick(spans.size())]};
        std::optional<std::uint64_t> fence;
        model.reacquired = false;
        const std::string expected = s.apply(reference, nullptr, &model);
        const std::string actual = s.apply(redis, &fence);
        if (expected != actual) {
            INFO("seed " << seed << ", step " << i << ", op " << s.op);
            CHECK(actual == expected);
            break;
        }
        if (fence && model.reacquired) {
            CHECK(*fence == last_fence[s.key]);  // the holder's own fence back
        } else if (fence) {
            CHECK(*fence > last_fence[s.key]);
            last_fence[s.key] = *fence;
        }
        // deleting or overwriting a lock's key forgets its fence (as in the model)
        if (s.op == 0 || s.op == 2) last_fence.erase(s.key);
        if (s.op == 4) {
            const auto under_prefix = [&](const auto& entry) { return entry.first.starts_with(s.key.substr(0, 1)); };
            std::erase_if(last_fence, under_prefix);
        }
        ++compared;
        // GCRA runs on the manual clock; moving it past every schedule (600 ms of
        // capacity) keeps the server's real-time expiry of old schedules irrelevant
        if (i % 100 == 99) clock.advance(1s);
        else if (pick(10) == 0) clock.advance(std::chrono::milliseconds{pick(300)});
    }
    CHECK(compared == 2000);
}
