// Shared pieces of the coordinator's Redis tests: a node that records what it
// received (on the delivery thread, asserted on the main thread afterwards).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/coordinator.hpp>

#include "coordinator/test_events.hpp"
#include "support/eventually.hpp"

namespace coord_test {

using hotstate::testing::eventually;

/// What one node received. Catch2 is not thread-safe: only counters and containers here.
struct recorder {
    mutable std::mutex mutex;
    std::map<std::uint64_t, std::vector<std::uint64_t>> by_publisher;  // publisher -> ping.n, arrival order
    std::vector<hotstate::gap> gaps;
    std::vector<hotstate::connection_event> connection_events;
    std::atomic<std::uint64_t> total{0};
    std::atomic<std::uint64_t> mislabelled{0};  // ping.from disagrees with the header's publisher

    void on_ping(const ping& p, const hotstate::delivery& from) {
        if (p.from != from.publisher) ++mislabelled;
        std::lock_guard lock(mutex);
        by_publisher[from.publisher].push_back(p.n);
        ++total;
    }
    void on_gap(const hotstate::gap& g) {
        std::lock_guard lock(mutex);
        gaps.push_back(g);
    }

    void on_connection(const hotstate::connection_event& e) {
        std::lock_guard lock(mutex);
        connection_events.push_back(e);
    }

    template <class Coordinator>
    void attach(Coordinator& node) {
        node.template subscribe<ping>([this](const ping& p, const hotstate::delivery& d) { on_ping(p, d); });
        node.on_gap([this](const hotstate::gap& g) { on_gap(g); });
        node.on_connection([this](const hotstate::connection_event& e) { on_connection(e); });
    }

    std::vector<std::uint64_t> from(std::uint64_t publisher) const {
        std::lock_guard lock(mutex);
        auto it = by_publisher.find(publisher);
        return it == by_publisher.end() ? std::vector<std::uint64_t>{} : it->second;
    }
    std::size_t count(std::uint64_t publisher) const { return from(publisher).size(); }
    std::size_t gaps_of(hotstate::gap_kind kind) const {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& g : gaps) n += g.kind == kind ? 1 : 0;
        return n;
    }
    std::vector<hotstate::gap> all_gaps() const {
        std::lock_guard lock(mutex);
        return gaps;
    }
    std::vector<hotstate::connection_event> connections() const {
        std::lock_guard lock(mutex);
        return connection_events;
    }
    std::size_t connections_of(hotstate::connection_state state) const {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& e : connection_events) n += e.state == state ? 1 : 0;
        return n;
    }
    /// The first reported event in `state`, if any.
    std::optional<hotstate::connection_event> first_of(hotstate::connection_state state) const {
        std::lock_guard lock(mutex);
        for (const auto& e : connection_events)
            if (e.state == state) return e;
        return std::nullopt;
    }
};

/// True when `ns` is strictly increasing (in order, no repeats).
inline bool strictly_increasing(const std::vector<std::uint64_t>& ns) {
    for (std::size_t i = 1; i < ns.size(); ++i)
        if (ns[i] <= ns[i - 1]) return false;
    return true;
}

/// A node of type `Node` over `transport`, started, what it hears recorded in `box`.
template <class Node, class T>
std::unique_ptr<Node> start_node(hotstate::coordinator_options options, T transport, recorder& box) {
    auto node = std::make_unique<Node>(options, std::move(transport));
    box.attach(*node);
    node->start();
    return node;
}

/// A fire-and-forget transport's server going away and coming back under two
/// nodes: `sender` publishes 50 pings that `receiver_box` gets, `interrupt()`
/// takes the server away and back, `sender` publishes until pings flow again.
/// Then one outage is reported, naming the server's `address`; nothing came
/// twice or out of order; every other gap is a sequence skip of publisher 1,
/// none reversed. Returns the pings received, in order.
template <class Sender, class Interrupt>
std::vector<std::uint64_t> across_an_outage(Sender& sender, recorder& receiver_box, Interrupt interrupt,
                                            const std::string& address) {
    std::uint64_t n = 0;
    for (; n < 50; ++n) sender.publish(ping{1, n + 1, ""});
    REQUIRE(eventually([&] { return receiver_box.count(1) == 50; }));
    interrupt();
    // keep publishing until events flow again: those sent while the receiver was
    // not subscribed are lost, and must be reported
    REQUIRE(eventually(
        [&] {
            sender.publish(ping{1, ++n, ""});
            const auto got = receiver_box.from(1);
            return got.size() > 50 && got.back() > 60;
        },
        std::chrono::seconds{20}));
    REQUIRE(eventually([&] { return receiver_box.gaps_of(hotstate::gap_kind::outage) == 1; }));
    const auto got = receiver_box.from(1);
    CHECK(strictly_increasing(got));  // nothing twice, nothing out of order
    for (const auto& g : receiver_box.all_gaps()) {
        if (g.kind == hotstate::gap_kind::outage) {
            CHECK(g.detail.find(address) != std::string::npos);
        } else {
            REQUIRE(g.kind == hotstate::gap_kind::sequence_skip);
            CHECK(g.publisher == 1);
            CHECK(g.first_missing <= g.last_missing);
        }
    }
    return got;
}

}  // namespace coord_test
