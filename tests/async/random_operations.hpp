// Random store operations from one caller (a coroutine) on an async_store,
// each checked against a reference hotstate::store on the memory backend:
// the differential load of the async backends' tests (async_redis_test,
// async_cluster_test).
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hotstate::testing {

/// `count` random increments, counter reads, sets, gets, takes and lookup adds
/// on the keys `stem` + 0..3 (seeded by `seed`), each result compared with
/// `reference`'s (updated under `reference_lock`); a difference counts in
/// `mismatches`. An operation's error leaves the coroutine.
template <class Counters, class Tokens, class Store, class Reference>
boost::asio::awaitable<void> random_operations(Store& store, Reference& reference, std::mutex& reference_lock, unsigned seed,
                                               std::string stem, int count, std::atomic<int>& mismatches) {
    namespace asio = boost::asio;
    std::mt19937 random(seed);
    for (int i = 0; i < count; ++i) {
        const std::string key = stem + std::to_string(random() % 4);
        const auto by = static_cast<std::int64_t>(random() % 5) + 1;
        const std::string value = "v" + std::to_string(random());
        std::unique_lock hold(reference_lock, std::defer_lock);
        switch (random() % 6) {
        case 0: {
            const auto got = co_await store.template async_increment<Counters>(key, by, std::nullopt, asio::use_awaitable);
            hold.lock();
            if (got != reference.template increment<Counters>(key, by)) mismatches.fetch_add(1);
            break;
        }
        case 1: {
            const auto got = co_await store.template async_counter<Counters>(key, asio::use_awaitable);
            hold.lock();
            if (got != reference.template counter<Counters>(key)) mismatches.fetch_add(1);
            break;
        }
        case 2: {
            co_await store.template async_set<Tokens>(key + "t", value, std::nullopt, asio::use_awaitable);
            hold.lock();
            reference.template set<Tokens>(key + "t", value);
            break;
        }
        case 3: {
            const auto got = co_await store.template async_get<Tokens>(key + "t", asio::use_awaitable);
            hold.lock();
            if (got != reference.template get<Tokens>(key + "t")) mismatches.fetch_add(1);
            break;
        }
        case 4: {
            const auto got = co_await store.template async_take<Tokens>(key + "t", asio::use_awaitable);
            hold.lock();
            if (got != reference.template take<Tokens>(key + "t")) mismatches.fetch_add(1);
            break;
        }
        default: {
            const auto got = co_await store.template async_lookup_add<Tokens>(key + "s", value.substr(0, 3), asio::use_awaitable);
            hold.lock();
            if (got != reference.template lookup_add<Tokens>(key + "s", value.substr(0, 3))) mismatches.fetch_add(1);
        }
        }
    }
}

}  // namespace hotstate::testing
