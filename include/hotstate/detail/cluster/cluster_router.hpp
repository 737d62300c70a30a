// hotstate/detail/cluster/cluster_router.hpp: routing of the Redis Cluster
// backend: which node runs a command, and the redirect/retry loop.
//
// The live table mirrors the pure slot_map: one atomic node index per slot
// (patched in place on MOVED, rewritten on refresh) and a fixed array of node
// pointers that only grows, so the hot path is a CRC16, two loads and the
// node's pool: no lock, no allocation, no reference count. Nodes that leave
// the cluster keep their (idle) pool until the backend dies.
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
#include <thread>
#include <utility>
#include <vector>

#include <hotstate/detail/cluster/redirect.hpp>
#include <hotstate/detail/cluster/routed_backend.hpp>
#include <hotstate/detail/cluster/slot.hpp>
#include <hotstate/detail/cluster/slot_map.hpp>
#include <hotstate/detail/cluster/slots_reply.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::cluster {

/// One cluster node as the client sees it: its address and its pool.
struct cluster_node {
    cluster_node(node_address at, const ::hotstate::redis::endpoint& where, const ::hotstate::redis::pool_options& options,
                 ::hotstate::redis::pool::setup_function setup)
        : address(std::move(at)), pool(where, options, std::move(setup)) {}

    node_address address;
    ::hotstate::redis::pool pool;
    /// Up to four replica node indexes, 16 bits each (0xffff: none), when this node is a master.
    std::atomic<std::uint64_t> replicas{~std::uint64_t{0}};
};

/// An error's own message, without the ": <category message>" std::system_error
/// appends to what(), so that wrapping it again does not repeat that suffix.
[[nodiscard]] inline std::string message_of(const error& e) {
    std::string text = e.what();
    const std::string suffix = ": " + e.code().message();
    if (text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0)
        text.resize(text.size() - suffix.size());
    return text;
}

/// The error an operation ends with when the retry budget is spent.
[[nodiscard]] inline error give_up_error(std::string_view backend, std::string_view where, std::string_view command,
                                         unsigned retries, errc kind, std::string_view last) {
    std::string text(backend);
    text.append(": ").append(where).append(": ").append(command).append(" failed after ");
    text.append(std::to_string(retries)).append(retries == 1 ? " retry: " : " retries: ").append(last);
    return error(kind, text);
}

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
        : settings_(std::move(settings)), nodes_(std::make_unique<std::atomic<cluster_node*>[]>(node_capacity)) {
        for (auto& owner : owner_) owner.store(slot_map::unassigned, std::memory_order_relaxed);
        if (settings_.urls.empty())
            throw error(errc::configuration, "hotstate: redis_cluster configuration: urls must name at least one seed node");
        for (const auto& url : settings_.urls) {
            ::hotstate::redis::config single;
            single.url = url;
            single.timeout = settings_.timeout;
            single.pool_max_connections = settings_.pool_max_connections;
            single.pool_timeout_create = settings_.pool_timeout_create;
            single.pool_timeout_wait = settings_.pool_timeout_wait;
            single.pool_timeout_recycle = settings_.pool_timeout_recycle;
            single.auth_username = settings_.auth_username;
            single.auth_secret = settings_.auth_secret;
            single.protocol = settings_.protocol;
            single.tcp_keepalive = settings_.tcp_keepalive;
            auto where = ::hotstate::redis::resolve(single);  // refuses resp3, TLS, bad URLs, bad pool fields
            if (where.type != ::hotstate::redis::endpoint::kind::tcp)
                throw error(errc::configuration, "hotstate: redis_cluster configuration: URL '" +
                                                     ::hotstate::redis::detail_config::redact(url) +
                                                     "': cluster nodes are reached over TCP, not a Unix socket");
            if (where.db != 0)
                throw error(errc::configuration, "hotstate: redis_cluster configuration: URL '" +
                                                     ::hotstate::redis::detail_config::redact(url) +
                                                     "': Redis Cluster has database 0 only");
            if (seeds_.empty()) {
                pool_options_ = ::hotstate::redis::pool_options::from(single);
                username_ = where.username;
                password_ = where.password;
            }
            seeds_.push_back(node_address{where.host, where.port});
        }
        for (const auto& seed : seeds_) (void)intern(seed);
    }

    cluster_router(const cluster_router&) = delete;
    cluster_router& operator=(const cluster_router&) = delete;

    ~cluster_router() {
        const std::size_t count = count_.load(std::memory_order_acquire);
        for (std::size_t i = 0; i < count; ++i) delete nodes_[i].load(std::memory_order_relaxed);
    }

    [[nodiscard]] const config_type& settings() const noexcept { return settings_; }

    /// Runs `body(connection&)` on the node serving `key`, following redirects
    /// and retrying within the budget; the body may run more than once.
    template <class Body>
    decltype(auto) execute(std::string_view key, access mode, std::string_view command, Body&& body) {
        // the hot path: slot, owner, pool; nothing else is built unless the attempt fails
        const std::uint16_t slot = key_slot(key);
        if (generation_.load(std::memory_order_acquire) != 0) [[likely]] {
            const std::uint16_t index = pick(slot, mode == access::read);
            if (index != slot_map::unassigned) [[likely]] {
                try {
                    return node(index).pool.run(body);
                } catch (const reply_redirect& redirect) {
                    return execute_slow(slot, mode, command, body, attempt_failure::of(redirect), index);
                } catch (const error& e) {
                    if (e.kind() != errc::connection && e.kind() != errc::timeout) throw;
                    return execute_slow(slot, mode, command, body, attempt_failure::of(e), index);
                }
            }
        }
        return execute_slow(slot, mode, command, body, std::nullopt, slot_map::unassigned);
    }

    /// Runs `body(connection&)` once on every master (SCAN-based fan-out); on a
    /// failure it refreshes, waits and carries on with the masters not done yet.
    template <class Body>
    void for_each_master(std::string_view command, Body&& body) {
        if (generation_.load(std::memory_order_acquire) == 0) [[unlikely]]
            refresh(0);
        retry_fsm fsm(settings_.retries());
        std::vector<std::uint16_t> done;
        for (;;) {
            const std::uint64_t seen = generation_.load(std::memory_order_acquire);
            const auto masters = current_masters();
            classified_error failure;
            std::string last;
            errc last_kind = errc::connection;
            std::uint16_t failed_at = slot_map::unassigned;
            if (masters.empty()) {
                failure.kind = failure_kind::cluster_down;
                last = unassigned_reason(last_kind);
                if (last_kind == errc::authentication || last_kind == errc::configuration)
                    throw give_up_error("redis_cluster", "cluster", command, 0, last_kind, last);
            }
            for (const std::uint16_t index : masters) {
                if (std::find(done.begin(), done.end(), index) != done.end()) continue;
                try {
                    node(index).pool.run(body);
                    done.push_back(index);
                } catch (const reply_redirect& redirect) {
                    failure = redirect.what;
                    last = redirect.address + ": " + redirect.message;
                } catch (const error& e) {
                    if (e.kind() != errc::connection && e.kind() != errc::timeout) throw;
                    failure.kind = failure_kind::connection;
                    last = message_of(e);
                    last_kind = e.kind();
                }
                if (failure.kind != failure_kind::none) {
                    failed_at = index;
                    break;
                }
            }
            if (failure.kind == failure_kind::none) return;
            if (failure.kind == failure_kind::moved || failure.kind == failure_kind::ask)
                failure.kind = failure_kind::cluster_down;  // a fan-out has no key to follow: wait and look again
            const retry_step step = fsm.on_failure(failure);
            if (step.what == retry_step::action::give_up)
                throw give_up_error("redis_cluster", failed_at == slot_map::unassigned ? std::string("cluster")
                                                                                       : "node " + node(failed_at).address.to_string(),
                                    command, fsm.retries(), last_kind, last);
            failures_.fetch_add(1, std::memory_order_relaxed);
            refresh(seen);
            if (step.wait.count() > 0) std::this_thread::sleep_for(step.wait);  // backoff before the next attempt
        }
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
                ranges = asked.pool.run([&](connection& c) {
                    auto r = c.command("CLUSTER SLOTS", "CLUSTER", "SLOTS");
                    return parse_cluster_slots(r.get(), asked.address.host);
                });
            } catch (const error& e) {
                last_refresh_error_ = message_of(e);
                last_refresh_kind_ = e.kind();
                continue;  // unreachable or refusing: ask the next node
            }
            if (!ranges) {
                last_refresh_error_ = "redis " + asked.address.to_string() + ": CLUSTER SLOTS: not a cluster reply";
                continue;
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
    [[nodiscard]] std::uint16_t master_index(std::uint16_t slot) const noexcept {
        return owner_[slot & (slot_count - 1)].load(std::memory_order_acquire);
    }
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
        std::vector<std::uint16_t> masters;
        std::uint16_t previous = slot_map::unassigned;
        for (const auto& owner : owner_) {
            const std::uint16_t index = owner.load(std::memory_order_acquire);
            if (index == slot_map::unassigned || index == previous) continue;
            previous = index;
            if (std::find(masters.begin(), masters.end(), index) == masters.end()) masters.push_back(index);
        }
        return masters;
    }

private:
    /// One failed attempt, as the retry loop needs it.
    struct attempt_failure {
        classified_error what;
        std::string text;
        errc kind = errc::connection;

        static attempt_failure of(const reply_redirect& redirect) {
            const bool redirected = redirect.what.kind == failure_kind::moved || redirect.what.kind == failure_kind::ask;
            return {redirect.what, redirect.address + ": " + redirect.message, redirected ? errc::server : errc::connection};
        }
        static attempt_failure of(const error& e) {
            return {classified_error{failure_kind::connection, 0, std::nullopt}, message_of(e), e.kind()};
        }
    };

    /// The retry loop, entered after a failed first attempt (`first`, on node
    /// `index`) or when the table has no node for the slot yet.
    template <class Body>
    [[gnu::noinline]] decltype(auto) execute_slow(std::uint16_t slot, access mode, std::string_view command, Body& body,
                                                  std::optional<attempt_failure> first, std::uint16_t index) {
        retry_fsm fsm(settings_.retries());
        std::optional<node_address> ask;
        bool replica_failed = false;
        std::uint64_t seen = generation_.load(std::memory_order_acquire);
        if (seen == 0) {
            refresh(0);
            seen = generation_.load(std::memory_order_acquire);
            index = pick(slot, mode == access::read);
        }
        for (;;) {
            attempt_failure failure;
            if (first) {
                failure = std::move(*first);
                first.reset();
                if (mode == access::read && index != master_index(slot)) replica_failed = true;
            } else if (index != slot_map::unassigned) {
                cluster_node& target = node(index);
                try {
                    if (ask) {
                        return target.pool.run([&](connection& c) -> decltype(auto) {
                            auto asking = c.command("ASKING", "ASKING");
                            if (asking.is_error()) fail_reply(c, "ASKING", asking);
                            struct asking_scope {
                                asking_scope() noexcept { asking_in_progress() = true; }
                                ~asking_scope() { asking_in_progress() = false; }
                            } scope;
                            return body(c);
                        });
                    }
                    return target.pool.run(body);
                } catch (const reply_redirect& redirect) {
                    failure = attempt_failure::of(redirect);
                } catch (const error& e) {
                    if (e.kind() != errc::connection && e.kind() != errc::timeout) throw;
                    failure = attempt_failure::of(e);
                }
                if (mode == access::read && index != master_index(slot)) replica_failed = true;
            } else {
                failure.what.kind = failure_kind::cluster_down;
                failure.text = unassigned_reason(failure.kind);
                // wrong credentials do not heal by waiting: say so at once
                if (failure.kind == errc::authentication || failure.kind == errc::configuration)
                    throw give_up_error("redis_cluster", where_text(slot, index), command, 0, failure.kind, failure.text);
            }
            const retry_step step = fsm.on_failure(failure.what);
            if (step.what == retry_step::action::give_up)
                throw give_up_error("redis_cluster", where_text(slot, index), command, fsm.retries(), failure.kind,
                                    failure.text);
            failures_.fetch_add(1, std::memory_order_relaxed);
            if (failure.what.kind == failure_kind::moved && failure.what.target) assign(failure.what.slot, *failure.what.target);
            ask = step.ask_target;
            if (step.refresh_map) refresh(seen);
            if (step.wait.count() > 0) std::this_thread::sleep_for(step.wait);  // backoff before the next attempt
            seen = generation_.load(std::memory_order_acquire);
            index = ask ? intern(*ask) : pick(slot, mode == access::read && !replica_failed);
        }
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
        ::hotstate::redis::endpoint where;
        where.type = ::hotstate::redis::endpoint::kind::tcp;
        where.host = address.host;
        where.port = address.port;
        where.username = username_;
        where.password = password_;
        ::hotstate::redis::pool::setup_function setup = [replicas = settings_.read_from_replicas](connection& c) {
            load_scripts(c);
            if (!replicas) return;
            // lets a replica serve reads of its slots; harmless on a master
            auto r = c.command("READONLY", "READONLY");
            if (r.is_error()) throw detail::redis::server_error(c.address(), "READONLY", r.text());
        };
        nodes_[now].store(new cluster_node(address, where, pool_options_, std::move(setup)), std::memory_order_release);
        count_.store(now + 1, std::memory_order_release);
        return static_cast<std::uint16_t>(now);
    }

    void assign(std::uint16_t slot, const node_address& master) {
        owner_[slot & (slot_count - 1)].store(intern(master), std::memory_order_release);
    }

    /// Mirrors `ranges` into the live table (slots in no range become unassigned).
    void apply(const std::vector<slot_range>& ranges) {
        std::array<std::uint16_t, slot_count> next;
        next.fill(slot_map::unassigned);
        for (const auto& range : ranges) {
            const std::uint16_t master = intern(range.master);
            std::uint64_t packed = ~std::uint64_t{0};
            for (std::size_t r = 0; r < range.replicas.size() && r < 4; ++r) {
                packed &= ~(std::uint64_t{0xffff} << (16 * r));
                packed |= std::uint64_t{intern(range.replicas[r])} << (16 * r);
            }
            node(master).replicas.store(packed, std::memory_order_release);
            for (std::uint32_t slot = range.first; slot <= range.last; ++slot) next[slot] = master;
        }
        for (std::size_t slot = 0; slot < slot_count; ++slot) owner_[slot].store(next[slot], std::memory_order_release);
    }

    config_type settings_;
    ::hotstate::redis::pool_options pool_options_;
    std::optional<std::string> username_;
    std::optional<std::string> password_;
    std::vector<node_address> seeds_;
    std::array<std::atomic<std::uint16_t>, slot_count> owner_;
    std::unique_ptr<std::atomic<cluster_node*>[]> nodes_;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<std::uint64_t> refreshes_{0};
    std::atomic<std::uint64_t> failures_{0};
    std::mutex intern_mutex_;
    std::mutex refresh_mutex_;
    std::string last_refresh_error_;               // guarded by refresh_mutex_
    errc last_refresh_kind_ = errc::connection;    // guarded by refresh_mutex_
};

}  // namespace hotstate::detail::cluster
