// hotstate/detail/redis/routing/cluster_router.hpp: routing of the Redis Cluster
// backend: which node runs a command, and the redirect/retry loop.
//
// The table is the pure slot_map (slot_map.hpp, unit-tested), published as one
// immutable snapshot (routing_table: the map and, per map node, the router's
// node index) replaced on refresh and on MOVED (a copy with the slot patched),
// with an atomic version bumped after each swap. Readers take it without a
// lock: each thread keeps the snapshot it last used (a shared_ptr, so an old
// snapshot lives while a thread holds it) with its version, and takes the
// published one again (under a short lock) only when the version moved. The
// hot path compares one atomic version with it: a CRC16, that load, a thread-local read, one load in the snapshot (the
// map's answer per slot, worked out when the snapshot is made) and the node's
// pool; no lock, no allocation, no reference count unless the table changed. Nodes sit
// in a fixed array of pointers that only grows; nodes that leave the cluster
// keep their (idle) pool until the backend dies.
//
// What is retried: MOVED, ASK, TRYAGAIN, CLUSTERDOWN, READONLY, LOADING,
// MASTERDOWN (the node refused the command: it did not run), a connection
// that could not be opened, and a connection lost before the request was
// written. A connection lost (or a reply timed out) after the write is retried
// only for an idempotent operation; a redis::once operation then fails with
// error::outcome_unknown() (see pool.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <thread>
#include <vector>

#include <hotstate/detail/redis/proto/redirect.hpp>
#include <hotstate/detail/redis/routing/router_support.hpp>
#include <hotstate/detail/redis/routing/routing_table.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/detail/redis/routing/slot_map.hpp>
#include <hotstate/detail/redis/proto/slots_reply.hpp>
#include <hotstate/detail/redis/proto/url_text.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::redis::routing {

/// The snapshot a thread used last, per thread: which router, which version.
/// Trivial, so the hot path reads it without a TLS wrapper call; the pointer
/// stays valid because routing_table_held (touched only when retaking) owns it.
struct routing_table_cache {
    std::uint64_t router = 0;
    std::uint64_t version = 0;
    const routing_table* table = nullptr;
};
inline thread_local constinit routing_table_cache routing_table_cached{};
inline thread_local std::shared_ptr<const routing_table> routing_table_held;

/// Routes commands over a Redis Cluster (see file comment).
class cluster_router {
public:
    using config_type = ::hotstate::redis::cluster_config;
    using connection = ::hotstate::redis::connection;
    /// MOVED, ASK, TRYAGAIN, CLUSTERDOWN... send a command elsewhere or later.
    static constexpr bool follows_redirects = true;
    /// Keys live in 16384 slots over many nodes: one key per command.
    static constexpr bool one_node = false;
    /// Most nodes a client will ever track (every node it has heard of).
    static constexpr std::size_t node_capacity = 1024;

    /// Validates `settings` (errc::configuration); connects to nothing yet.
    explicit cluster_router(config_type settings)
        : settings_(std::move(settings)), nodes_(std::make_unique<std::atomic<cluster_node*>[]>(node_capacity)),
          table_(std::make_shared<const routing_table>()), id_(next_id()) {
        cluster_seeds seeds = read_seeds(settings_);
        pool_options_ = ::hotstate::redis::pool_options::from(seeds.first);
        reach_ = seeds.reach;
        tls_ = seeds.reach.tls;
        seeds_ = std::move(seeds.nodes);
        // one TLS context (CA, client certificate, key read once) for every node's pool
        if (tls_.enabled) tls_context_ = detail::redis::tls_context(tls_);
        for (const auto& seed : seeds_) (void)intern(seed);
    }

    cluster_router(const cluster_router&) = delete;
    cluster_router& operator=(const cluster_router&) = delete;

    ~cluster_router() {
        const std::size_t count = count_.load(std::memory_order_acquire);
        for (std::size_t i = 0; i < count; ++i) delete nodes_[i].load(std::memory_order_relaxed);
    }

    [[nodiscard]] const config_type& settings() const noexcept { return settings_; }

    /// The retry budget of every request (the configuration's).
    [[nodiscard]] ::hotstate::redis::retry_policy retry_budget() const noexcept { return settings_.retry; }

    /// Runs attempts of exchange `ex` on the node serving `key` (one of its
    /// replicas for a read when the configuration allows, the master after any
    /// failure) until one gives an outcome: `attempt(connection&)` is one
    /// attempt. Redirects and failures go where the exchange decides
    /// (router_support.hpp's routed_attempts); the map is patched on MOVED and
    /// read again when the exchange asks.
    template <std::size_t N, class Attempt>
    [[gnu::always_inline]] inline decltype(auto) execute(std::string_view key, access mode,
                                                         proto::exchange<N, true>& ex, std::string_view command,
                                                         Attempt&& attempt) {
        slot_route route{*this, key_slot(key), mode == access::read};
        return routed_attempts(route, ex, command, attempt);
    }

    /// Runs `body(connection&)`, a body that writes and reads by itself, as a
    /// request of effect `E` on the node serving `key`.
    template <::hotstate::redis::effect E, class Body>
    decltype(auto) execute(std::string_view key, access mode, ::hotstate::redis::effect_tag<E> effect,
                           std::string_view command, Body&& body) {
        auto ex = opaque_exchange<true>(effect, settings_.retry);
        return execute(key, mode, ex, command, body);
    }

    /// execute() of a body that must not run twice (redis::once).
    template <class Body>
    decltype(auto) execute(std::string_view key, access mode, std::string_view command, Body&& body) {
        return execute(key, mode, ::hotstate::redis::once, command, std::forward<Body>(body));
    }

    /// Runs `body(connection&)`, idempotent in effect, once on every master
    /// (SCAN-based fan-out); when one fails, the topology is read again and
    /// the masters not done yet are run, within one retry budget.
    template <class Body>
    void for_each_master(std::string_view command, Body&& body) {
        if (generation_.load(std::memory_order_acquire) == 0) [[unlikely]]
            refresh(0);
        auto ex = opaque_exchange<true>(::hotstate::redis::idempotent, settings_.retry);
        fan_out_route route{*this};
        while (route.next_master()) (void)routed_attempts(route, ex, command, body);
    }

    /// Re-reads the topology (CLUSTER SLOTS) unless someone did since
    /// generation `seen`; true when the map is now fresh.
    bool refresh(std::uint64_t seen) {
        std::scoped_lock guard(refresh_mutex_);
        if (generation_.load(std::memory_order_acquire) != seen) return true;
        std::vector<std::uint16_t> order = current_masters();
        const std::size_t count = count_.load(std::memory_order_acquire);
        for (std::uint16_t i = 0; i < count; ++i)
            if (std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);
        std::optional<std::vector<slot_range>> best;
        std::size_t best_coverage = 0;
        for (const std::uint16_t index : order) {
            cluster_node& asked = node(index);
            std::optional<std::vector<slot_range>> ranges;
            try {
                ranges = asked.pool.execute(detail::redis::commands::cluster_slots{});
            } catch (const error& e) {
                last_refresh_error_ = message_of(e);
                last_refresh_kind_ = e.kind();
                continue;  // unreachable or refusing: ask the next node
            }
            std::size_t coverage = 0;
            for (const auto& range : *ranges) coverage += static_cast<std::size_t>(range.last - range.first) + 1;
            if (coverage > best_coverage) {
                best = std::move(ranges);
                best_coverage = coverage;
            }
            if (coverage == slot_count) break;
        }
        if (!best) return false;
        apply(*best);
        refreshes_.fetch_add(1, std::memory_order_relaxed);
        generation_.fetch_add(1, std::memory_order_acq_rel);
        return true;
    }

    /// Index of the master serving `slot` now, or slot_map::unassigned.
    [[nodiscard]] std::uint16_t master_index(std::uint16_t slot) const noexcept { return table().master_of(slot); }
    /// The address of node `index`.
    [[nodiscard]] const node_address& address_of(std::uint16_t index) { return node(index).address; }
    /// The pool of node `index` (for raw commands in tests and tools).
    [[nodiscard]] ::hotstate::redis::pool& pool_of(std::uint16_t index) { return node(index).pool; }
    /// Bumped by every topology refresh (0: none yet); pass it to refresh().
    [[nodiscard]] std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
    /// Nodes known so far (seeds, masters, replicas, redirect targets).
    [[nodiscard]] std::size_t node_count() const noexcept { return count_.load(std::memory_order_acquire); }
    /// Topology refreshes done (CLUSTER SLOTS read and applied).
    [[nodiscard]] std::uint64_t refresh_count() const noexcept { return refreshes_.load(std::memory_order_relaxed); }
    /// Failed attempts that were retried (redirects included).
    [[nodiscard]] std::uint64_t retry_count() const noexcept { return failures_.load(std::memory_order_relaxed); }

    /// Distinct master indexes of the current table.
    [[nodiscard]] std::vector<std::uint16_t> current_masters() const {
        const std::shared_ptr<const routing_table> now = published();
        std::vector<std::uint16_t> masters;
        for (const std::uint16_t in_map : now->map.masters()) masters.push_back(now->router_index[in_map]);
        return masters;
    }

private:
    /// The snapshot this thread routes with: its own copy while the version has
    /// not moved (one atomic load), else the published one taken again.
    [[gnu::always_inline]] const routing_table& table() const noexcept {
        const std::uint64_t version = version_.load(std::memory_order_acquire);
        routing_table_cache& cached = routing_table_cached;
        if (cached.router == id_ && cached.version == version) [[likely]]
            return *cached.table;
        return retake(cached, version);
    }
    [[gnu::noinline]] const routing_table& retake(routing_table_cache& cached, std::uint64_t version) const noexcept {
        // a swap between the version's load and this one leaves a newer table
        // under an older version: the next call takes it again, no harm
        routing_table_held = published();
        cached.table = routing_table_held.get();
        cached.router = id_;
        cached.version = version;
        return *cached.table;
    }
    /// The published snapshot (a short lock: only retaking and publishing take it).
    [[nodiscard]] std::shared_ptr<const routing_table> published() const {
        std::scoped_lock guard(table_mutex_);
        return table_;
    }
    /// Publishes `next` (under publish_mutex_).
    void publish(routing_table next) {
        auto made = std::make_shared<const routing_table>(std::move(next));
        {
            std::scoped_lock guard(table_mutex_);
            table_.swap(made);
        }
        version_.fetch_add(1, std::memory_order_acq_rel);
    }
    /// Fills `next.router_index` for the map's nodes it does not cover yet, then `next.master`.
    void index_nodes(routing_table& next) {
        const auto& nodes = next.map.nodes();
        for (std::size_t i = next.router_index.size(); i < nodes.size(); ++i) next.router_index.push_back(intern(nodes[i]));
        next.compile();
    }
    static std::uint64_t next_id() noexcept {
        static std::atomic<std::uint64_t> ids{0};
        return ids.fetch_add(1, std::memory_order_relaxed) + 1;
    }

    /// Where the attempts of a request on `slot` go (routed_attempts): its
    /// master, or a replica for a read until one failed; an ASK's node once.
    struct slot_route {
        static constexpr std::string_view backend = "redis_cluster";
        cluster_router& router;
        std::uint16_t slot;
        bool read;
        std::uint16_t index = slot_map::unassigned;  ///< the node of the current attempt
        std::uint64_t seen = 0;                      ///< the table generation of the last retry (0: none yet)
        std::optional<node_address> ask{};
        bool replica_failed = false;

        [[gnu::always_inline]] ::hotstate::redis::pool* target() {
            if (ask) [[unlikely]] {
                index = router.intern(*std::exchange(ask, std::nullopt));
            } else {
                index = router.pick(slot, read && !replica_failed);
                if (index == slot_map::unassigned) [[unlikely]]
                    index = router.first_pick(slot, read && !replica_failed);
            }
            return index == slot_map::unassigned ? nullptr : &router.node(index).pool;
        }
        std::string unreachable(errc& kind) { return router.unassigned_reason(kind); }
        void look_again(const attempt_end& end) {
            router.failures_.fetch_add(1, std::memory_order_relaxed);
            if (read && index != slot_map::unassigned && index != router.master_index(slot)) replica_failed = true;
            if (end.moved_to) router.assign(slot, *end.moved_to);
            ask = end.next.ask;
            // one read of the topology per failure, however many requests failed at once
            if (end.next.refresh) router.refresh(seen != 0 ? seen : router.generation());
            if (end.next.wait.count() > 0) std::this_thread::sleep_for(end.next.wait);  // the backoff
            seen = router.generation();
        }
        [[nodiscard]] std::string where() const { return router.where_text(slot, index); }
    };

    /// Where the attempts of a fan-out go: each master of the current table
    /// not done yet, in turn (next_master() moves on after a success).
    struct fan_out_route {
        static constexpr std::string_view backend = "redis_cluster";
        cluster_router& router;
        std::vector<std::uint16_t> done{};
        std::uint16_t index = slot_map::unassigned;
        std::uint64_t seen = 0;  ///< the table generation of the last retry (0: none yet)
        bool started = false;

        /// Marks the master just run done; false once every master of the table
        /// is. The first call is always true: a table without masters (no node
        /// answered) is the first attempt's failure to report, not a fan-out done.
        bool next_master() {
            if (!std::exchange(started, true)) return true;
            if (index != slot_map::unassigned) done.push_back(std::exchange(index, slot_map::unassigned));
            for (const std::uint16_t master : router.current_masters())
                if (std::find(done.begin(), done.end(), master) == done.end()) return true;
            return false;
        }
        ::hotstate::redis::pool* target() {
            for (const std::uint16_t master : router.current_masters()) {
                if (std::find(done.begin(), done.end(), master) != done.end()) continue;
                index = master;
                return &router.node(master).pool;
            }
            return nullptr;  // the table lost its masters since next_master() looked
        }
        std::string unreachable(errc& kind) { return router.unassigned_reason(kind); }
        void look_again(const attempt_end& end) {
            router.failures_.fetch_add(1, std::memory_order_relaxed);
            // a fan-out has no key to follow: a redirect means "look again", like any failure
            router.refresh(seen != 0 ? seen : router.generation());
            if (end.next.wait.count() > 0) std::this_thread::sleep_for(end.next.wait);  // the backoff
            seen = router.generation();
        }
        [[nodiscard]] std::string where() const {
            return index == slot_map::unassigned ? std::string("cluster")
                                                 : "node " + router.node(index).address.to_string();
        }
    };

    /// pick() before the first topology read: reads it, then picks.
    [[gnu::cold, gnu::noinline]] std::uint16_t first_pick(std::uint16_t slot, bool replica_read) {
        if (generation_.load(std::memory_order_acquire) == 0) refresh(0);
        return pick(slot, replica_read);
    }

    cluster_node& node(std::uint16_t index) const noexcept { return *nodes_[index].load(std::memory_order_acquire); }

    /// The node for an attempt on `slot`: its master, or one of its replicas for a read.
    std::uint16_t pick(std::uint16_t slot, bool replica_read) const noexcept {
        const std::uint16_t master = master_index(slot);
        if (!replica_read || !settings_.read_from_replicas || master == slot_map::unassigned) [[likely]]
            return master;
        const std::uint64_t packed = node(master).replicas.load(std::memory_order_acquire);
        std::uint16_t candidates[4];
        std::size_t n = 0;
        for (int i = 0; i < 4; ++i) {
            const auto index = static_cast<std::uint16_t>(packed >> (16 * i));
            if (index != slot_map::unassigned) candidates[n++] = index;
        }
        if (n == 0) return master;
        thread_local std::size_t spread = 0;
        return candidates[spread++ % n];
    }

    /// Why a slot has no node: never learnt a map (with the last refresh error), or a gap in it.
    std::string unassigned_reason(errc& kind) {
        std::scoped_lock guard(refresh_mutex_);
        kind = errc::connection;
        if (generation_.load(std::memory_order_acquire) == 0) {
            if (!last_refresh_error_.empty()) kind = last_refresh_kind_;
            return "no node answered CLUSTER SLOTS (last: " +
                   (last_refresh_error_.empty() ? std::string("nothing tried") : last_refresh_error_) + ")";
        }
        return "no node serves the slot (CLUSTER SLOTS leaves it unassigned)";
    }

    std::string where_text(std::uint16_t slot, std::uint16_t index) {
        std::string text = "slot " + std::to_string(slot) + " on node ";
        text += index == slot_map::unassigned ? std::string("(none)") : node(index).address.to_string();
        return text;
    }

    /// The index of `address`, adding the node (and its lazy pool) when new.
    std::uint16_t intern(const node_address& address) {
        const std::size_t count = count_.load(std::memory_order_acquire);
        for (std::size_t i = 0; i < count; ++i)
            if (nodes_[i].load(std::memory_order_acquire)->address == address) return static_cast<std::uint16_t>(i);
        std::scoped_lock guard(intern_mutex_);
        const std::size_t now = count_.load(std::memory_order_acquire);
        for (std::size_t i = count; i < now; ++i)
            if (nodes_[i].load(std::memory_order_acquire)->address == address) return static_cast<std::uint16_t>(i);
        if (now >= node_capacity)
            throw error(errc::server, "hotstate: redis_cluster: more than " + std::to_string(node_capacity) +
                                          " nodes announced; refusing to track more");
        const ::hotstate::redis::endpoint where = node_endpoint(reach_, address);
        ::hotstate::redis::pool::setup_function setup = [replicas = settings_.read_from_replicas](connection& c) {
            load_scripts(c);
            if (!replicas) return;
            // lets a replica serve reads of its slots; harmless on a master
            (void)detail::redis::run<false>(c, detail::redis::commands::readonly{});
        };
        nodes_[now].store(new cluster_node(address, where, pool_options_, std::move(setup), tls_context_),
                          std::memory_order_release);
        count_.store(now + 1, std::memory_order_release);
        return static_cast<std::uint16_t>(now);
    }

    /// A MOVED answer: a copy of the table with `slot` pointed at `master`, published.
    void assign(std::uint16_t slot, const node_address& master) {
        std::scoped_lock guard(publish_mutex_);
        routing_table next = *published();
        next.map.assign(slot, master);
        index_nodes(next);
        publish(std::move(next));
    }

    /// Publishes the table of `ranges` (slots in no range become unassigned).
    void apply(const std::vector<slot_range>& ranges) {
        for (const auto& range : ranges) {
            const std::uint16_t master = intern(range.master);
            std::uint64_t packed = ~std::uint64_t{0};
            for (std::size_t r = 0; r < range.replicas.size() && r < 4; ++r) {
                packed &= ~(std::uint64_t{0xffff} << (16 * r));
                packed |= std::uint64_t{intern(range.replicas[r])} << (16 * r);
            }
            node(master).replicas.store(packed, std::memory_order_release);
        }
        routing_table next(slot_map::from_ranges(ranges));
        std::scoped_lock guard(publish_mutex_);
        index_nodes(next);
        publish(std::move(next));
    }

    config_type settings_;
    ::hotstate::redis::pool_options pool_options_;
    ::hotstate::redis::endpoint reach_;  // every node's credentials and TLS (the first seed's)
    ::hotstate::redis::tls_options tls_{};  // every node's (from the settings and the first seed's scheme)
    detail::redis::tls_context tls_context_;  // loaded from tls_ once, when enabled
    std::vector<node_address> seeds_;
    std::unique_ptr<std::atomic<cluster_node*>[]> nodes_;
    mutable std::mutex table_mutex_;                           // guards table_ (not the hot path)
    std::shared_ptr<const routing_table> table_;               // the published snapshot
    std::atomic<std::uint64_t> version_{0};                    // bumped by every publish
    const std::uint64_t id_;                                   // tells routers apart in routing_table_cached
    std::mutex publish_mutex_;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<std::uint64_t> refreshes_{0};
    std::atomic<std::uint64_t> failures_{0};
    std::mutex intern_mutex_;
    std::mutex refresh_mutex_;
    std::string last_refresh_error_;               // guarded by refresh_mutex_
    errc last_refresh_kind_ = errc::connection;    // guarded by refresh_mutex_
};

static_assert(Router<cluster_router>);

}  // namespace hotstate::detail::redis::routing
