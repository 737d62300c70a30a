// What the queue laws share: their queue categories and job types, the store
// they make, the options they use. Included by laws/queue.hpp, and by the
// Redis queue's own tests (tests/queue/redis_hints_test.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <catch2/catch.hpp>

#include <hotstate/queue.hpp>

namespace laws::queue_laws {

using namespace std::chrono_literals;

struct webhook_job {
    BOOST_HANA_DEFINE_STRUCT(webhook_job, (std::string, url), (std::uint32_t, tries));
};

/// A job type whose decoder refuses the text "poison", to test undecodable payloads.
struct picky {
    std::string text;
};

}  // namespace laws::queue_laws

template <>
struct hotstate::codec<laws::queue_laws::picky> {
    static void encode(const laws::queue_laws::picky& value, std::string& out) { out += value.text; }
    static laws::queue_laws::picky decode(std::string_view in) {
        if (in == "poison") throw hotstate::error(hotstate::errc::decode, "picky: poison is not a job");
        return {std::string(in)};
    }
};

namespace laws::queue_laws {

struct webhooks : hotstate::queue_category<60, "webhooks", webhook_job> {};
struct texts : hotstate::queue_category<61, "texts"> {};
struct pickies : hotstate::queue_category<62, "pickies", picky> {};
struct plain : hotstate::category<63, "plain"> {};

inline const hotstate::queue_options quick{.lease = 10s, .max_attempts = 3, .backoff_base = 1s,
                                           .backoff_max = 1min, .jitter = 0.0};

/// Jobs in the queue in any state.
template <class Counts>
auto total(const Counts& counts) {
    return counts.waiting + counts.delayed + counts.active + counts.dead;
}

template <class F>
auto make(F& fixture) {
    return fixture.template make_store<webhooks, texts, pickies, plain>();
}

/// A handle on queue `Q` of `store`: hotstate::queue, or the front end's own
/// (laws/async_front.hpp) where the store is one.
template <class Q, class S>
auto open_queue(S& store, const hotstate::queue_options& options = {}) {
    if constexpr (requires { store.template open_queue<Q>(options); }) return store.template open_queue<Q>(options);
    else return hotstate::queue<Q>(store, options);
}

}  // namespace laws::queue_laws
