// The differential law: a random sequence of backend operations gives the same
// answers (values, counts, GCRA decisions, lock outcomes and fencing tokens,
// and the kind of every error) from the model's backend as from the embedded
// reference backend (basic_memory) on the same manual clock. Included by
// laws/store.hpp; a model states `laws::differential` when its backend has
// every store capability and is not the reference itself.
//
// A model without delete by prefix (memcached) never draws it; one whose
// lookups are items of their own rather than keys (memcached again: the
// fixture says lookups_share_key_space = false) gives set operations keys of
// their own.
//
// Two kinds of model, by how they keep time:
//   - a manual clock (SQLite, the embedded shards): TTLs and leases of every
//     length, the clock moved at random (past the fence retention too), fencing
//     tokens compared exactly;
//   - a server's own clock (the Redis family): time stays out of it where the
//     two keep it differently. TTLs are 0 or an hour, leases an hour, fencing
//     tokens (server TIME there, the manual clock here) are compared only for
//     growth, GCRA schedules have keys of their own and the clock moves past
//     every schedule. Redis's lock acquire is idempotent, so that a request whose
//     reply was lost can be sent again: the live holder re-acquiring gets its
//     lease renewed and its fence back. `lock_model` adds exactly that on top of
//     the reference, nothing else. (A release sent again is another command,
//     tested in tests/redis/redis_at_most_once_test.cpp.)
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <hotstate/backends/memory.hpp>

#include "laws/store_support.hpp"

namespace laws::differential_law {

/// What one operation answered, as text: "ok ..." or "error <kind>".
template <class F>
std::string outcome(F&& call) {
    try {
        return "ok " + call();
    } catch (const hotstate::error& e) {
        return "error " + std::to_string(static_cast<int>(e.kind()));
    }
}

inline std::string show(bool value) { return value ? "true" : "false"; }
inline std::string show(std::int64_t value) { return std::to_string(value); }
inline std::string show(std::uint64_t value) { return std::to_string(value); }
inline std::string show(const std::optional<std::uint64_t>& value) { return value ? std::to_string(*value) : "none"; }
inline std::string show(const hotstate::rate_decision& d) {
    return show(d.allowed) + "/" + std::to_string(d.retry_after.count()) + "/" + std::to_string(d.remaining);
}

/// The idempotent acquire of the Redis lock over the reference backend.
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
};

/// One random operation on a backend.
struct step {
    int op;
    std::string key, member, value;
    std::int64_t number;
    std::chrono::milliseconds span;

    /// The operation on `b`, its outcome as text. With `model` (a server's model:
    /// the reference given Redis's lock semantics), lock acquires are shown without
    /// their fence, which `fence` receives.
    template <class B>
    std::string apply(B& b, std::optional<std::uint64_t>* fence, lock_model* model, bool server) const {
        const auto lease = server ? std::chrono::milliseconds{std::chrono::hours{1}} : (span.count() > 0 ? span : 1ms);
        switch (op) {
            case 0: return outcome([&] { b.kv_set(key, value, span); return std::string(); });
            case 1: return outcome([&] {
                std::string got = "missing";
                b.kv_get(key, [&](std::string_view bytes) { got = "value:" + std::string(bytes); });
                return got;
            });
            case 2: return outcome([&] { return show(b.kv_del(key)); });
            case 3: return outcome([&] { return show(b.kv_exists(key)); });
            case 4:
                if constexpr (hotstate::PrefixEraseBackend<B>)
                    return outcome([&] { return show(b.kv_del_prefix(key.substr(0, 1))); });
                else
                    return "not drawn";  // the law draws it only for models with delete by prefix
            case 5: return outcome([&] { return show(b.counter_incr(key, number, span)); });
            case 6: return outcome([&] { return show(b.counter_get(key)); });
            case 7: return outcome([&] {
                return show(b.gcra_check(key, hotstate::rate_math::gcra_parameters_of(hotstate::gcra{5, 1s, 3}),
                                         1 + (number & 1)));
            });
            case 8: return outcome([&] {
                const auto got = model ? model->acquire(b, key, member, lease) : b.lock_acquire(key, member, lease);
                if (!server) return show(got);
                if (fence) *fence = got;
                return std::string(got ? "acquired" : "held");
            });
            case 9: return outcome([&] { return show(b.lock_release(key, member, std::uint64_t{0}, hotstate::release_attempt::first)); });  // the first send: no fence needed
            case 10: return outcome([&] { return show(b.lock_extend(key, member, lease)); });
            case 11: return outcome([&] { return show(b.set_add(key, member)); });
            case 12: return outcome([&] { return show(b.set_remove(key, member)); });
            case 13: return outcome([&] { return show(b.set_contains(key, member)); });
            case 14: return outcome([&] { b.map_set(key, member, value); return std::string(); });
            case 15: return outcome([&] {
                std::string got = "missing";
                b.map_get(key, member, [&](std::string_view bytes) { got = "value:" + std::string(bytes); });
                return got;
            });
            case 16: return outcome([&] { return show(b.map_remove(key, member)); });
            default: return outcome([&] {
                std::string got = "missing";
                b.kv_take(key, [&](std::string_view bytes) { got = "value:" + std::string(bytes); });
                return got;
            });
        }
    }
};

}  // namespace laws::differential_law

namespace laws {

HOTSTATE_STORE_LAW("differential: random operations answer exactly as the embedded reference backend",
                   "[laws][differential]", differential) {
    using namespace differential_law;
    constexpr bool server = TestType::expires_in_real_time;
    const auto seed = GENERATE(1u, 2u, 3u);
    auto& backend = s.backend();
    hotstate::backends::basic_memory<hotstate::manual_clock> reference({}, fixture.clock);
    std::mt19937_64 random(seed);
    const auto pick = [&](auto n) { return static_cast<decltype(n)>(random() % static_cast<std::uint64_t>(n)); };

    // few keys, so kinds collide often; shared first bytes; NUL and 0xff included.
    // On a server a lock is a hash, so lock keys and key-value lookups never share
    // a key; GCRA schedules expire by the manual clock in the reference and by real
    // time (plus slack) on the server, so they have keys of their own.
    const std::vector<std::string> keys = {"a1", "a2", "b1", std::string("\xff\x00", 2), "\xff" "z", "c"};
    const std::vector<std::string> map_keys = {"m1", "m2"};
    const std::vector<std::string> gcra_keys = {"g1", "g2"};
    // a model whose lookups are not keys of the key space (memcached: one item
    // per member) gives set operations keys of their own, as maps have
    const std::vector<std::string> set_keys = {"s1", "s2"};
    constexpr bool lookups_apart = !lookups_share_key_space<TestType>();
    constexpr bool prefix_erase = has<TestType, laws::erase_prefix>;
    const std::vector<std::string> owners = {"owner-1", "owner-2", ""};
    const std::vector<std::string> values = {"12", "-3", "abc", "", std::string("x\0y", 3),
                                             server ? "0" : "9223372036854775807"};
    const std::vector<std::int64_t> amounts = {1, 5, -2, std::numeric_limits<std::int64_t>::max(),
                                               std::numeric_limits<std::int64_t>::min()};
    const std::vector<std::chrono::milliseconds> spans =
        server ? std::vector<std::chrono::milliseconds>{0ms, 0ms, 1h}
               : std::vector<std::chrono::milliseconds>{0ms, 0ms, 1ms, 500ms, 2s, 10s};
    const int steps = server ? 2000 : 4000;

    std::map<std::string, std::uint64_t> last_fence;
    lock_model model;
    int compared = 0;
    for (int i = 0; i < steps; ++i) {
        step next{};
        if constexpr (server) {
            int op = pick(18);
            if (op == 4 && !prefix_erase) op = 3;
            // (take, op 17, draws map keys too: a take of a map is wrong_type; not so
            // where lookups are items apart, whose takes draw the other keys)
            const bool map_op = lookups_apart ? op >= 14 && op <= 16 : op >= 14;
            const auto& pool = map_op                               ? map_keys
                               : op == 7                            ? gcra_keys
                               : op >= 11 && op <= 13 && lookups_apart ? set_keys
                                                                    : keys;
            next = step{op, pool[pick(pool.size())], owners[pick(owners.size())], values[pick(values.size())],
                     amounts[pick(amounts.size())], spans[pick(spans.size())]};
        } else {
            int op = pick(18);
            if (op == 4 && !prefix_erase) op = 3;
            next = step{op, keys[pick(keys.size())], owners[pick(owners.size())], values[pick(values.size())],
                     amounts[pick(amounts.size())], spans[pick(spans.size())]};
            // Values near the 64-bit limits only on key "c", and no GCRA there:
            // rate_math::gcra_step itself overflows on a stored time that large.
            if (next.key != "c") {
                if (next.number > 1000 || next.number < -1000) next.number = 7;
                if (next.value.size() > 10) next.value = "12";
            } else if (next.op == 7) {
                next.key = "a1";
            }
        }
        std::optional<std::uint64_t> fence;
        model.reacquired = false;
        const std::string expected = next.apply(reference, nullptr, server ? &model : nullptr, server);
        const std::string actual = next.apply(backend, &fence, nullptr, server);
        if (expected != actual) {
            INFO("seed " << seed << ", step " << i << ", op " << next.op << ", span " << next.span.count() << " ms");
            CHECK(actual == expected);
            break;  // one divergence is enough to read
        }
        if constexpr (server) {
            if (fence && model.reacquired) {
                CHECK(*fence == last_fence[next.key]);  // the holder's own fence back
            } else if (fence) {
                CHECK(*fence > last_fence[next.key]);
                last_fence[next.key] = *fence;
            }
            // deleting or overwriting a lock's key forgets its fence (as in the reference)
            if (next.op == 0 || next.op == 2) last_fence.erase(next.key);
            if (next.op == 4) {
                const auto under_prefix = [&](const auto& entry) { return entry.first.starts_with(next.key.substr(0, 1)); };
                std::erase_if(last_fence, under_prefix);
            }
        }
        ++compared;
        if constexpr (server) {
            // GCRA runs on the manual clock; moving it past every schedule (600 ms of
            // capacity) keeps the server's real-time expiry of old schedules irrelevant
            if (i % 100 == 99) fixture.pass(1s);
            else if (pick(10) == 0) fixture.pass(std::chrono::milliseconds{pick(300)});
        } else {
            const auto roll = pick(100);
            if (roll < 20) fixture.pass(std::chrono::milliseconds{pick(3000)});
            if (roll == 50) {
                if constexpr (requires { backend.purge(); }) backend.purge();
            }
            if (roll == 51) reference.sweep_all();
            if (roll == 52) fixture.pass(11min);  // past the fence retention of every lock
        }
    }
    CHECK(compared == steps);
}

}  // namespace laws
