// hotstate/detail/async/routing/cluster_route.hpp: slot routing of the asynchronous
// Redis Cluster backend (backends::async_redis_cluster), on the blocking
// router's pure pieces.
//
// cluster_state is one backend's shared state: a multiplexed connection
// (connection.hpp) per node, opened when first used (READONLY at log-in when
// reads may go to replicas: a read goes to one of its slot's replicas in
// turn, and to the master after any failure); the routing table
// (routing_table.hpp over slot_map.hpp, from CLUSTER SLOTS parsed by
// slots_reply.hpp), published as an immutable snapshot replaced on refresh and
// patched (a copy) on MOVED. cluster_route is what each operation carries:
// its slot, the node of its attempt, and its retry state machine
// (redirect.hpp's retry_fsm with the cluster_config's retry policy: the
// blocking router's rules, the same budget and backoff):
//   - MOVED: the slot is pointed at the named node in a new snapshot, a
//     refresh is started, and the operation is sent again at once;
//   - ASK: ASKING and the command go to the named node in one write; the table
//     is not changed;
//   - TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN, READONLY, a connection that
//     cannot be opened, a request that timed out unwritten: sent again after
//     the policy's backoff on an Asio timer (no thread waits), with a refresh
//     where the policy asks for one;
//   - a redirect reply means the command did not run, so sending it again is
//     always allowed; a connection lost after the write keeps the connection's
//     at-most-once rule (outcome_unknown unless idempotent), and the topology
//     is read again, since a failover may have promoted a replica.
// Past the budget the operation fails with the typed error the blocking
// router gives (give_up_error: backend, slot and node, command, last failure).
//
// Threads: the table, the node list and the refresh state are guarded by one
// mutex, held for a lookup (no I/O under it). An operation is in one place at
// a time (a connection's queue, a timer, the refresh waiters), so its route is
// only touched by whoever holds it.
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hotstate/detail/async/io/connection.hpp>
#include <hotstate/detail/async/io/operation.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/detail/redis/proto/redirect.hpp>
#include <hotstate/detail/redis/routing/router_support.hpp>
#include <hotstate/detail/redis/routing/routing_table.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/detail/redis/routing/slot_map.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/async_options.hpp>
#include <hotstate/redis/cluster/config.hpp>

namespace hotstate::detail::async {

class cluster_state;

/// The route of one operation on a cluster (see the banner).
struct cluster_route {
    static constexpr bool redirects = true;

    std::shared_ptr<cluster_state> cluster;
    std::uint16_t slot = 0;
    std::uint16_t node = redis::routing::slot_map::unassigned;  ///< the node of the current attempt
    std::uint64_t seen = 0;                                     ///< the table generation it was routed with
    bool ask = false;                                           ///< the attempt goes to `node`, the ASK's
    bool fresh = false;  ///< route the next attempt with a topology read made when it is due (not before its backoff)
    bool read = false;   ///< a read a replica may serve (read_from_replicas; the master after a failure)

    [[nodiscard]] inline ::hotstate::redis::retry_policy budget() const noexcept;
    inline void submit(pending* p);

    /// A redirect the exchange judged: sent where it says, or the final error.
    template <std::size_t N>
    std::optional<error> on_redirect(pending* p, proto::exchange<N, true>& ex, ::hotstate::redis::reply_view reply,
                                     std::string_view address, std::string_view command) {
        const redis::commands::redirected what{ex.redirect(), std::string(reply.text()), std::string(address)};
        return again(p, ex, redis::routing::attempt_end::of(ex, what), command);
    }
    /// The connection broke with the request written.
    template <std::size_t N>
    std::optional<error> on_lost(pending* p, proto::exchange<N, true>& ex, const error& why, std::string_view command) {
        refresh_after_loss();  // a node that dropped or went silent may have failed over: look again
        return again(p, ex, redis::routing::attempt_end::of(ex, why, true), command);
    }
    /// No connection to the node (down, refused): nothing was written.
    template <std::size_t N>
    std::optional<error> on_unreachable(pending* p, proto::exchange<N, true>& ex, const error& why,
                                        std::string_view command) {
        refresh_after_loss();
        if (closed()) return why;
        return again(p, ex, redis::routing::attempt_end::unreachable(ex, why.kind(), redis::routing::message_of(why)),
                     command);
    }

private:
    inline void refresh_after_loss();
    [[nodiscard]] inline bool closed() const;
    [[nodiscard]] inline std::string where() const;
    /// Sends `p` again as `end` says (true), or gives the final error.
    template <std::size_t N>
    std::optional<error> again(pending* p, const proto::exchange<N, true>& ex, const redis::routing::attempt_end& end,
                               std::string_view command) {
        if (!end.next.retry || closed())
            return redis::routing::routed_failure(cluster_state_name, where(), command, ex, end);
        resend(p, end);
        return std::nullopt;
    }
    inline void resend(pending* p, const redis::routing::attempt_end& end);
    static constexpr std::string_view cluster_state_name = "async_redis_cluster";
};

/// One async_redis_cluster's nodes, table and counters (see the banner).
class cluster_state : public std::enable_shared_from_this<cluster_state> {
public:
    static constexpr std::string_view backend_name = "async_redis_cluster";
    using slot_map = redis::routing::slot_map;

    /// Checks `settings` (errc::configuration, as the blocking backend does); connects to nothing yet.
    cluster_state(asio::any_io_executor executor, const ::hotstate::redis::cluster_config& settings,
                  ::hotstate::redis::async_options options)
        : executor_(std::move(executor)), seeds_(redis::routing::read_seeds(settings)), policy_(settings.retry),
          options_(options), replicas_(settings.read_from_replicas),
          table_(std::make_shared<const redis::routing::routing_table>()) {
        for (const auto& seed : seeds_.nodes) (void)intern_locked(seed);
    }
    cluster_state(const cluster_state&) = delete;
    cluster_state& operator=(const cluster_state&) = delete;

    /// Starts the first topology read.
    void start() { refresh(0); }

    /// Closes every connection; operations waiting for a table fail with errc::connection.
    /// The connections are let go: their queued operations own this state, so
    /// keeping them would keep a cycle alive when the io_context stops first.
    void close() {
        std::vector<std::shared_ptr<connection>> open;
        std::vector<std::pair<pending*, cluster_route*>> parked;
        {
            std::scoped_lock guard(mutex_);
            closed_ = true;
            for (auto& n : nodes_)
                if (n.link) open.push_back(std::move(n.link));
            parked.swap(waiters_);
        }
        for (auto& c : open) c->close();
        for (auto& [p, r] : parked) p->on_error(std::make_exception_ptr(closed_error()));
    }

    /// A route for `key`'s slot (`read`: a replica may serve it, when reading from replicas).
    [[nodiscard]] cluster_route route_of(std::string_view key, bool read) {
        return cluster_route{
            .cluster = shared_from_this(), .slot = redis::routing::key_slot(key), .read = read && replicas_};
    }
    /// The retry budget of every operation (the configuration's).
    [[nodiscard]] const redis::routing::retry_policy& policy() const noexcept { return policy_; }

    /// Sends `p` where `r` says: the ASK target, else the master of its slot;
    /// parked until the table is read when no node serves the slot yet.
    void send(pending* p, cluster_route& r) {
        connection* to = nullptr;
        std::optional<error> why;
        bool read_now = false;
        {
            std::scoped_lock guard(mutex_);
            if (closed_) {
                why = closed_error();
            } else if (std::exchange(r.fresh, false) && !r.ask) {
                // after a backoff for a node that failed: a read started before the wait may
                // predate the failover it waited for, so one is made (or joined) now
                waiters_.emplace_back(p, &r);
                read_now = !std::exchange(refreshing_, true);
            } else {
                if (!r.ask) {
                    r.node = r.read ? reader_locked(r.slot) : table_->master_of(r.slot);
                    r.seen = generation_;
                }
                if (r.node != slot_map::unassigned) {
                    to = link_locked(r.node);
                } else if (refreshing_) {
                    waiters_.emplace_back(p, &r);
                    return;
                } else {
                    why = error(errc::connection, unassigned_reason_locked());
                }
            }
        }
        if (read_now) return spawn_refresh();
        if (why) return p->on_error(std::make_exception_ptr(*why));
        if (to != nullptr) to->submit(p);
    }

    /// `p` sent again after `wait` (an Asio timer; the timer's handler owns it until then).
    void send_after(std::chrono::milliseconds wait, pending* p, cluster_route& r) {
        auto timer = std::make_shared<asio::steady_timer>(executor_, wait);
        timer->async_wait([timer, owned = std::unique_ptr<pending>(p), &r](boost::system::error_code) mutable {
            r.submit(owned.release());
        });
    }

    /// A MOVED answer: a copy of the table with `slot` pointed at `master`, published.
    void assign(std::uint16_t slot, const redis::routing::node_address& master) {
        std::scoped_lock guard(mutex_);
        redis::routing::routing_table next = *table_;
        next.map.assign(slot, master);
        publish_locked(std::move(next));
    }

    /// Reads the topology again in the background unless someone did since
    /// generation `seen` or a read is under way.
    void refresh(std::uint64_t seen) {
        {
            std::scoped_lock guard(mutex_);
            if (closed_ || refreshing_ || generation_ != seen) return;
            refreshing_ = true;
        }
        spawn_refresh();
    }

    /// Runs a topology read (refreshing_ set by the caller), then resumes the waiters.
    void spawn_refresh() {
        asio::co_spawn(
            executor_,
            [self = shared_from_this()]() -> asio::awaitable<void> {
                try {
                    co_await self->read_topology();
                } catch (...) {  // a read that failed everywhere leaves the table as it was
                }
                self->refreshed();
            },
            asio::detached);
    }

    /// Reads CLUSTER SLOTS (masters first, then every other node known, until
    /// one covers every slot) and publishes the best answer; false when no node answered.
    asio::awaitable<bool> read_topology() {
        std::vector<std::uint16_t> order;
        {
            std::scoped_lock guard(mutex_);
            order = masters_locked();
            for (std::uint16_t i = 0; i < nodes_.size(); ++i)
                if (std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);
        }
        std::optional<std::vector<redis::routing::slot_range>> best;
        std::size_t best_coverage = 0;
        for (const std::uint16_t index : order) {
            std::shared_ptr<connection> to;
            {
                std::scoped_lock guard(mutex_);
                if (closed_) co_return false;
                (void)link_locked(index);
                to = nodes_[index].link;
            }
            std::vector<redis::routing::slot_range> ranges;
            try {
                ranges = co_await async::start<std::vector<redis::routing::slot_range>>(
                    *to, executor_, slots_state{{}, {}, {}, {}, {}}, asio::use_awaitable);
            } catch (const error& e) {
                std::scoped_lock guard(mutex_);
                last_refresh_error_ = redis::routing::message_of(e);
                last_refresh_kind_ = e.kind();
                continue;  // unreachable or refusing: ask the next node
            }
            std::size_t coverage = 0;
            for (const auto& range : ranges) coverage += static_cast<std::size_t>(range.last - range.first) + 1;
            if (coverage > best_coverage) {
                best = std::move(ranges);
                best_coverage = coverage;
            }
            if (coverage == redis::routing::slot_count) break;
        }
        if (!best) co_return false;
        std::scoped_lock guard(mutex_);
        publish_locked(redis::routing::routing_table(slot_map::from_ranges(*best)));
        ++generation_;
        refreshes_.fetch_add(1, std::memory_order_relaxed);
        co_return true;
    }

    /// The connections of the masters of the current table (opened when new).
    [[nodiscard]] std::vector<std::shared_ptr<connection>> master_links() {
        std::scoped_lock guard(mutex_);
        if (closed_) throw closed_error();
        std::vector<std::shared_ptr<connection>> links;
        for (const std::uint16_t index : masters_locked()) {
            (void)link_locked(index);
            links.push_back(nodes_[index].link);
        }
        return links;
    }

    /// The node index of `address`, added when new (an ASK target).
    std::uint16_t intern(const redis::routing::node_address& address) {
        std::scoped_lock guard(mutex_);
        return intern_locked(address);
    }

    /// "slot N on node host:port", for error messages.
    [[nodiscard]] std::string where(std::uint16_t slot, std::uint16_t node) {
        std::string text = "slot " + std::to_string(slot) + " on node ";
        std::scoped_lock guard(mutex_);
        text += node < nodes_.size() ? nodes_[node].address.to_string() : std::string("(none)");
        return text;
    }

    /// Counts a retry (`end`: what caused it).
    void count(const redis::routing::attempt_end& end) noexcept {
        retries_.fetch_add(1, std::memory_order_relaxed);
        if (end.moved_to) moved_.fetch_add(1, std::memory_order_relaxed);
        if (end.next.ask) asked_.fetch_add(1, std::memory_order_relaxed);
    }

    [[nodiscard]] bool closed() {
        std::scoped_lock guard(mutex_);
        return closed_;
    }
    [[nodiscard]] const asio::any_io_executor& executor() const noexcept { return executor_; }
    [[nodiscard]] std::uint64_t generation() {
        std::scoped_lock guard(mutex_);
        return generation_;
    }
    [[nodiscard]] std::size_t node_count() {
        std::scoped_lock guard(mutex_);
        return nodes_.size();
    }
    [[nodiscard]] std::uint64_t refresh_count() const noexcept { return refreshes_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t retry_count() const noexcept { return retries_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t moved_count() const noexcept { return moved_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t ask_count() const noexcept { return asked_.load(std::memory_order_relaxed); }

private:
    struct node_entry {
        redis::routing::node_address address;
        std::shared_ptr<connection> link;  ///< opened when first used
    };
    struct no_data {};
    struct make_slots {
        redis::commands::cluster_slots operator()(const no_data&) const noexcept { return {}; }
    };
    struct keep_ranges {
        std::vector<redis::routing::slot_range> operator()(std::vector<redis::routing::slot_range> r, const no_data&) const {
            return r;
        }
    };
    using slots_state = state<no_data, make_slots, keep_ranges>;

    [[nodiscard]] error closed_error() const {
        return error(errc::connection, "hotstate: async_redis_cluster: the backend is closed");
    }

    /// The refresh is over: what waited for a table is routed again.
    void refreshed() {
        std::vector<std::pair<pending*, cluster_route*>> parked;
        {
            std::scoped_lock guard(mutex_);
            refreshing_ = false;
            parked.swap(waiters_);
        }
        for (auto& [p, r] : parked) r->submit(p);
    }

    std::uint16_t intern_locked(const redis::routing::node_address& address) {
        for (std::size_t i = 0; i < nodes_.size(); ++i)
            if (nodes_[i].address == address) return static_cast<std::uint16_t>(i);
        if (nodes_.size() >= slot_map::unassigned)
            throw error(errc::server, "hotstate: async_redis_cluster: too many nodes announced; refusing to track more");
        nodes_.push_back(node_entry{address, nullptr});
        return static_cast<std::uint16_t>(nodes_.size() - 1);
    }

    /// Our index of a node that may serve a read of `slot`: one of its replicas, in turn, or its master.
    std::uint16_t reader_locked(std::uint16_t slot) {
        const std::uint16_t in_map = table_->map.reader_of(slot, spread_++);
        return in_map == slot_map::unassigned ? in_map : table_->router_index[in_map];
    }

    connection* link_locked(std::uint16_t index) {
        node_entry& n = nodes_[index];
        if (!n.link) {
            n.link = std::make_shared<connection>(executor_, seeds_.endpoint_of(n.address), options_);
            n.link->fail_queued_while_down();  // routed elsewhere (after a refresh) instead of waiting
            if (replicas_) n.link->readonly_on_login();
            n.link->start();
        }
        return n.link.get();
    }

    /// Publishes `next` with its nodes numbered as ours.
    void publish_locked(redis::routing::routing_table next) {
        const auto& nodes = next.map.nodes();
        for (std::size_t i = next.router_index.size(); i < nodes.size(); ++i) next.router_index.push_back(intern_locked(nodes[i]));
        next.compile();
        table_ = std::make_shared<const redis::routing::routing_table>(std::move(next));
    }

    [[nodiscard]] std::vector<std::uint16_t> masters_locked() const {
        std::vector<std::uint16_t> masters;
        for (const std::uint16_t in_map : table_->map.masters()) masters.push_back(table_->router_index[in_map]);
        return masters;
    }

    [[nodiscard]] std::string unassigned_reason_locked() const {
        if (generation_ == 0)
            return "no node answered CLUSTER SLOTS (last: " +
                   (last_refresh_error_.empty() ? std::string("nothing tried") : last_refresh_error_) + ")";
        return "no node serves the slot (CLUSTER SLOTS leaves it unassigned)";
    }

    asio::any_io_executor executor_;
    redis::routing::cluster_seeds seeds_;
    redis::routing::retry_policy policy_;
    ::hotstate::redis::async_options options_;
    bool replicas_;  ///< read_from_replicas
    std::mutex mutex_;
    std::size_t spread_ = 0;                                         // guarded: turns over a slot's replicas
    std::vector<node_entry> nodes_;                                  // guarded by mutex_
    std::shared_ptr<const redis::routing::routing_table> table_;     // guarded by mutex_: the published snapshot
    std::uint64_t generation_ = 0;                                   // guarded: topology reads applied
    bool refreshing_ = false;                                        // guarded
    bool closed_ = false;                                            // guarded
    std::vector<std::pair<pending*, cluster_route*>> waiters_;       // guarded: waiting for a table
    std::string last_refresh_error_;                                 // guarded
    errc last_refresh_kind_ = errc::connection;                      // guarded
    std::atomic<std::uint64_t> refreshes_{0};
    std::atomic<std::uint64_t> retries_{0};
    std::atomic<std::uint64_t> moved_{0};
    std::atomic<std::uint64_t> asked_{0};
};

inline void cluster_route::submit(pending* p) { cluster->send(p, *this); }

inline ::hotstate::redis::retry_policy cluster_route::budget() const noexcept { return cluster->policy(); }

inline void cluster_route::refresh_after_loss() { cluster->refresh(seen); }

inline bool cluster_route::closed() const { return cluster->closed(); }

inline std::string cluster_route::where() const { return cluster->where(slot, node); }

inline void cluster_route::resend(pending* p, const redis::routing::attempt_end& end) {
    read = false;  // a replica that failed (or lags a move) is not asked again: the master is
    cluster->count(end);
    if (end.moved_to) cluster->assign(slot, *end.moved_to);
    if (end.next.refresh) cluster->refresh(seen);
    fresh = end.next.refresh && end.next.wait.count() > 0;
    ask = end.next.ask.has_value();
    if (ask) node = cluster->intern(*end.next.ask);
    if (end.next.wait.count() > 0)
        cluster->send_after(end.next.wait, p, *this);
    else
        submit(p);
}

}  // namespace hotstate::detail::async
