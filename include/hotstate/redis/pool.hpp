// hotstate/redis/pool.hpp: a bounded pool of connections to one endpoint.
//
// Rules (the seeds' pool): at most max_connections; opening one is bounded by
// timeout_create; a caller waits at most timeout_wait for a free one, then gets
// errc::timeout; a connection idle longer than timeout_recycle is PINGed before
// reuse; a broken connection is discarded and its slot refilled on demand, so
// the pool heals by itself after a server restart.
//
// The checkout is the hot path of every operation, so it takes no lock and
// allocates nothing: each slot has an atomic state, a thread first tries the
// slot it used last (uncontended in the common case), and only a caller that
// finds every slot busy touches the mutex to sleep. One pool serves one
// endpoint; the cluster backend keeps one per node.
//
// A command is never applied twice behind the caller's back:
//   - before a connection that sat idle is handed out, the pool asks the socket
//     whether the server closed it (connection::peer_alive(): poll and peek, no
//     round trip) and replaces it if so: the usual state after a restart, a
//     CLIENT KILL or a server-side idle timeout, now healed before anything is
//     written. The probe costs a system call, so a connection reused within
//     probe_idle_after of its last use skips it (a tight loop pays nothing);
//   - once a request may have reached the server (a byte of it was written),
//     run() sends it again only when the operation is idempotent in effect
//     (effect::idempotent: reads, SET, UNLINK, SADD...). Otherwise the caller
//     gets the error with outcome_unknown() set: the server may have executed
//     the command and only the reply was lost;
//   - a request that failed before any byte was written never ran, and is
//     sent once more on a fresh connection whatever its effect.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include <hotstate/detail/redis/proto/errors.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/detail/redis/io/run.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::redis {

/// Whether an operation may be sent again once its request may have reached the
/// server. A compile-time property of each operation (see `once` and
/// `idempotent`), so choosing costs nothing at run time.
enum class effect : std::uint8_t {
    once,        ///< running it twice differs from once (INCRBY, rate checks, GETDEL): never re-sent after a write
    idempotent,  ///< running it twice has the effect of running it once (GET, SET, UNLINK, SADD...): re-sent
};

/// An effect as a function argument: `pool.run(redis::idempotent, body)`.
template <effect E>
struct effect_tag {
    /// The effect it stands for.
    static constexpr effect value = E;
};
/// Must not run twice; a failure after the write is outcome-unknown (error::outcome_unknown()).
inline constexpr effect_tag<effect::once> once{};
/// Safe to run twice; re-sent after a lost reply.
inline constexpr effect_tag<effect::idempotent> idempotent{};

/// Limits of a pool (see config for their meaning).
struct pool_options {
    /// At most this many connections.
    std::size_t max_connections = 10;
    /// Bound on connecting a new one (its setup commands use connect.command_timeout).
    std::chrono::milliseconds timeout_create{std::chrono::seconds{30}};
    /// How long acquire() waits for a free connection.
    std::chrono::milliseconds timeout_wait{std::chrono::seconds{30}};
    /// Idle longer than this: PING before reuse.
    std::chrono::milliseconds timeout_recycle{std::chrono::seconds{30}};
    /// Idle at least this long (by a coarse clock: 1 to 4 ms steps): ask the
    /// socket whether the server closed it before reuse (a poll, no round trip).
    /// Zero probes on every reuse.
    std::chrono::milliseconds probe_idle_after{1};
    /// How each connection is opened.
    connection_options connect{};

    /// The pool limits of a standalone config.
    [[nodiscard]] static pool_options from(const config& settings) {
        pool_options options;
        const node_settings& node = settings.node;
        options.max_connections = node.pool_max_connections;
        options.timeout_create = node.pool_timeout_create;
        options.timeout_wait = node.pool_timeout_wait;
        options.timeout_recycle = node.pool_timeout_recycle;
        options.connect.connect_timeout = std::min(node.timeout, node.pool_timeout_create);
        options.connect.command_timeout = node.timeout;
        options.connect.tcp_keepalive = node.tcp_keepalive;
        return options;
    }
};

}  // namespace hotstate::redis

namespace hotstate::detail::redis::pool_slots {

enum slot_state : std::uint8_t { empty = 0, idle = 1, busy = 2 };

template <class Connection>
struct alignas(64) slot {
    std::atomic<std::uint8_t> state{empty};
    std::optional<Connection> conn;
    std::int64_t last_used_ms = 0;   // coarse monotonic
    std::uint64_t checked_epoch = 0; // health epoch it was last known good in
    std::uint64_t opened_epoch = 0;  // health epoch it was opened in
};

/// Coarse monotonic milliseconds: a few nanoseconds, enough for idle checks.
inline std::int64_t coarse_now_ms() noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

inline std::size_t& thread_hint() noexcept {
    static thread_local std::size_t hint = 0;
    return hint;
}

}  // namespace hotstate::detail::redis::pool_slots

namespace hotstate::redis {

/// A pool of connections to one endpoint.
/// @tparam S the stream model its connections own (detail::redis::Stream);
///         `pool` is the run-time choice, any_stream, which the backends use.
/// @tparam Connection the protocol spoken over the streams: a Redis
///         connection by default; the memcached backend passes its own
///         (detail/memcached/io/connection.hpp). What the pool asks of it:
///         construction from (connector, endpoint, connection_options),
///         broken(), peer_alive(), ping(), begin_request(), request_sent(),
///         and a `protocol_name` for messages (default "redis").
template <detail::redis::Stream S, class Connection = basic_connection<S>>
class basic_pool {
    using slot_type = detail::redis::pool_slots::slot<Connection>;

public:
    /// The connection type handed out.
    using connection = Connection;

    /// A checked-out connection; returned to the pool (or discarded when
    /// broken) on destruction.
    class lease {
    public:
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        lease(lease&& other) noexcept
            : owner_(std::exchange(other.owner_, nullptr)), slot_(other.slot_), now_ms_(other.now_ms_),
              reused_(other.reused_) {}
        lease& operator=(lease&&) = delete;
        [[gnu::always_inline]] inline ~lease() {
            if (owner_) owner_->give_back(*slot_, now_ms_);
        }

        /// The connection, exclusively this lease's.
        connection& operator*() const noexcept { return *slot_->conn; }
        /// Member access to the connection.
        connection* operator->() const noexcept { return &*slot_->conn; }
        /// Whether the connection was idle in the pool (rather than opened for this lease).
        [[nodiscard]] bool reused() const noexcept { return reused_; }

    private:
        friend class basic_pool;
        lease(basic_pool* owner, slot_type* s, std::int64_t now_ms, bool reused) noexcept
            : owner_(owner), slot_(s), now_ms_(now_ms), reused_(reused) {}
        basic_pool* owner_;
        slot_type* slot_;
        std::int64_t now_ms_;
        bool reused_;
    };

    /// Called on every new connection after AUTH/SELECT (e.g. to load scripts).
    using setup_function = std::function<void(connection&)>;

    /// A pool for `where` whose streams `connector` opens (made once: for TLS
    /// it holds the loaded certificates); opens nothing until the first acquire().
    basic_pool(typename S::connector connector, endpoint where, pool_options options, setup_function setup = {})
        : connector_(std::move(connector)), where_(std::move(where)), options_(options), setup_(std::move(setup)),
          capacity_(options.max_connections == 0 ? 1 : options.max_connections),
          slots_(std::make_unique<slot_type[]>(capacity_)) {}

    /// A pool for `where`, with the connector it asks for (TCP, Unix socket or
    /// TLS; TLS files are loaded here: errc::configuration naming a bad one).
    basic_pool(const endpoint& where, pool_options options, setup_function setup = {})
        requires std::same_as<S, detail::redis::any_stream>
        : basic_pool(detail::redis::make_connector(where, options.connect), where, options, std::move(setup)) {}

    basic_pool(const basic_pool&) = delete;
    basic_pool& operator=(const basic_pool&) = delete;

    /// A new connection of the caller's own (not pooled), AUTH/SELECT done:
    /// for a blocking reader such as a subscriber.
    [[nodiscard]] connection open() const { return connection(connector_, where_, options_.connect); }

    /// The endpoint every connection goes to.
    [[nodiscard]] const endpoint& where() const noexcept { return where_; }
    /// The pool's limits.
    [[nodiscard]] const pool_options& options() const noexcept { return options_; }
    /// max_connections.
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

    /// Connections currently open (idle or busy).
    [[nodiscard]] std::size_t open_connections() const noexcept {
        std::size_t open = 0;
        for (std::size_t i = 0; i < capacity_; ++i)
            if (slots_[i].state.load(std::memory_order_acquire) != detail::redis::pool_slots::empty) ++open;
        return open;
    }

    /// Checks out a connection: an idle one, else a new one while below the
    /// limit, else waits up to timeout_wait (then errc::timeout).
    [[nodiscard, gnu::always_inline]] inline lease acquire() {
        const std::int64_t now = detail::redis::pool_slots::coarse_now_ms();
        std::size_t& hint = detail::redis::pool_slots::thread_hint();
        const std::size_t first = hint < capacity_ ? hint : 0;
        if (auto* s = try_idle(first)) [[likely]] {
            if (ready(*s, now)) [[likely]]
                return lease(this, s, now, true);
        }
        return acquire_slow(now);
    }

    /// The pool's health epoch: bumped whenever a connection is found dead.
    [[nodiscard]] std::uint64_t epoch() const noexcept { return health_epoch_.load(std::memory_order_acquire); }

    /// Checks out a connection opened in epoch `opened_since` or later: for a
    /// retry after a connection broke (read epoch() once the broken lease is
    /// given back), which must not go to a connection the same failure (a
    /// kill, a restart) may have closed. An older idle connection is replaced,
    /// not probed: a probe can run before the server's close of it arrives.
    [[nodiscard]] lease acquire_fresh(std::uint64_t opened_since) {
        return acquire_slow(detail::redis::pool_slots::coarse_now_ms(), opened_since);
    }

    /// Runs `body(connection&)` on a checked-out connection, as an operation
    /// that must not run twice (effect::once): commands the pool knows nothing
    /// about are treated as such.
    template <class F>
    decltype(auto) run(F&& body) {
        return run(once, std::forward<F>(body));
    }

    /// Runs `body(connection&)` on a checked-out connection, as one request of
    /// effect `E` (an exchange of one opaque command): when the connection
    /// breaks, the body runs once more on a fresh connection if nothing of its
    /// request was written, or if `E` is effect::idempotent; otherwise it fails,
    /// with outcome_unknown() set once the request may have reached the server
    /// (see the file comment and detail/redis/proto/exchange.hpp).
    template <effect E, class F>
    decltype(auto) run(effect_tag<E>, F&& body) {
        constexpr detail::redis::proto::command_traits traits{1, E == effect::idempotent, false, false};
        detail::redis::proto::exchange<1, false> ex({traits});
        return run(ex, body);
    }

    /// Runs attempts of exchange `ex` until one gives an outcome or the
    /// exchange gives up: `attempt(connection&)` is one attempt on a
    /// checked-out connection (after its begin_request()); a retry goes to a
    /// fresh connection (given back broken, the failed one made the pool check
    /// every older idle one before reuse). Error replies are the attempt's own.
    template <std::size_t N, class Attempt>
    [[gnu::always_inline]] inline decltype(auto) run(detail::redis::proto::exchange<N, false>& ex, Attempt&& attempt) {
        {
            lease held = acquire();
            held->begin_request();
            try {
                return attempt(*held);
            } catch (const error& failure) {
                if (!held->broken()) throw;
                retry_or_throw(ex, *held, failure);
            }
        }
        return run_again(ex, attempt);
    }

    /// Runs command value `command` as an exchange of its own on this pool
    /// (what the routers send to one node: CLUSTER SLOTS, and tools' probes).
    template <detail::redis::commands::Command Cmd>
    typename Cmd::result_type execute(const Cmd& command) {
        auto ex = detail::redis::proto::exchange_of<false>(command);
        return run(ex, [&](connection& c) { return detail::redis::attempt(c, ex, command); });
    }

    /// Closes idle connections (busy ones close when given back broken).    /// Closes idle connections (busy ones close when given back broken).
    void clear_idle() noexcept {
        for (std::size_t i = 0; i < capacity_; ++i) {
            auto& s = slots_[i];
            std::uint8_t expected = detail::redis::pool_slots::idle;
            if (s.state.compare_exchange_strong(expected, detail::redis::pool_slots::busy, std::memory_order_acquire)) {
                s.conn.reset();
                s.state.store(detail::redis::pool_slots::empty, std::memory_order_release);
                wake_one();
            }
        }
    }

private:
    slot_type* try_idle(std::size_t index) noexcept {
        auto& s = slots_[index];
        std::uint8_t expected = detail::redis::pool_slots::idle;
        if (s.state.compare_exchange_strong(expected, detail::redis::pool_slots::busy, std::memory_order_acquire,
                                            std::memory_order_relaxed))
            return &s;
        return nullptr;
    }

    /// An idle connection reused at once is usable as it is. One idle for
    /// probe_idle_after or more, or whose siblings were found dead since it was
    /// last checked, must show that its server has not closed it; one idle
    /// past timeout_recycle must also answer PING (a server that vanished
    /// without closing anything, e.g. a host that died, leaves nothing to probe).
    [[gnu::always_inline]] inline bool ready(slot_type& s, std::int64_t now) {
        const std::uint64_t epoch = health_epoch_.load(std::memory_order_acquire);
        if (now - s.last_used_ms < options_.probe_idle_after.count() && s.checked_epoch == epoch) [[likely]]
            return true;
        return recheck(s, epoch, now);
    }

    /// The probe (and maybe PING) of a connection that sat idle or whose siblings died.
    [[gnu::noinline]] bool recheck(slot_type& s, std::uint64_t epoch, std::int64_t now) {
        if (s.conn->peer_alive()) {
            s.checked_epoch = epoch;
            if (now - s.last_used_ms <= options_.timeout_recycle.count() || s.conn->ping()) return true;
        } else {
            health_epoch_.fetch_add(1, std::memory_order_acq_rel);  // a restart closes its siblings too
        }
        s.conn.reset();
        s.state.store(detail::redis::pool_slots::empty, std::memory_order_release);
        wake_one();
        return false;
    }

    /// After `failure` broke `c`: throws unless the exchange sends the request again.
    template <std::size_t N>
    [[gnu::cold, gnu::noinline]] static void retry_or_throw(detail::redis::proto::exchange<N, false>& ex,
                                                            const connection& c, const error& failure) {
        const detail::redis::proto::decision d = ex.on_failure(detail::redis::proto::failure_of(failure), c.request_sent());
        if (!d.retry) throw detail::redis::proto::give_up(failure, d, ex.all_idempotent(), ex.retries());
    }

    /// The attempts after the first failed one (each on a fresh connection).
    template <std::size_t N, class Attempt>
    [[gnu::cold, gnu::noinline]] decltype(auto) run_again(detail::redis::proto::exchange<N, false>& ex, Attempt& attempt) {
        for (;;) {
            std::optional<lease> fresh;
            try {
                fresh.emplace(acquire_fresh(epoch()));
            } catch (const error& failure) {
                // no connection: nothing more was sent, but an earlier attempt may have been applied
                detail::redis::proto::decision d;
                d.outcome_unknown = ex.sent();
                throw detail::redis::proto::give_up(failure, d, ex.all_idempotent(), ex.retries());
            }
            connection& c = **fresh;
            c.begin_request();
            try {
                return attempt(c);
            } catch (const error& failure) {
                if (!c.broken()) throw;
                retry_or_throw(ex, c, failure);
            }
        }
    }

    [[gnu::noinline, gnu::cold]] lease acquire_slow(std::int64_t now, std::uint64_t opened_since = 0) {
        const auto deadline = std::chrono::steady_clock::now() + options_.timeout_wait;
        for (;;) {
            if (auto got = try_once(now, opened_since)) return std::move(*got);
            std::unique_lock guard(mutex_);
            waiters_.fetch_add(1, std::memory_order_seq_cst);
            bool timed_out = false;
            for (;;) {
                if (any_available()) break;
                if (wakeup_.wait_until(guard, deadline) == std::cv_status::timeout && !any_available()) {
                    timed_out = true;
                    break;
                }
            }
            waiters_.fetch_sub(1, std::memory_order_seq_cst);
            if (timed_out)
                throw error(errc::timeout, pool_context() +
                                               "no free connection within " +
                                               std::to_string(options_.timeout_wait.count()) + "ms (all " +
                                               std::to_string(capacity_) + " connections busy)");
            now = detail::redis::pool_slots::coarse_now_ms();
        }
    }

    /// "redis ADDRESS: pool: " (or the connection's protocol_name).
    std::string pool_context() const {
        std::string text;
        if constexpr (requires { Connection::protocol_name; }) text = std::string(Connection::protocol_name);
        else text = "redis";
        text.append(" ").append(where_.address()).append(": pool: ");
        return text;
    }

    bool any_available() const noexcept {
        for (std::size_t i = 0; i < capacity_; ++i)
            if (slots_[i].state.load(std::memory_order_seq_cst) != detail::redis::pool_slots::busy) return true;
        return false;
    }

    /// One pass: an idle slot, else open a connection in an empty slot. With
    /// `opened_since`, an idle connection opened in an earlier epoch is not
    /// reused but replaced (a retry's fresh connection, see acquire_fresh()).
    std::optional<lease> try_once(std::int64_t now, std::uint64_t opened_since = 0) {
        std::size_t& hint = detail::redis::pool_slots::thread_hint();
        for (std::size_t i = 0; i < capacity_; ++i) {
            if (auto* s = try_idle(i)) {
                if (s->opened_epoch < opened_since) {
                    open_in(*s);  // the failure that asked for a fresh one may have killed it too
                    hint = i;
                    return lease(this, s, now, false);
                }
                if (ready(*s, now)) {
                    hint = i;
                    return lease(this, s, now, true);
                }
            }
        }
        for (std::size_t i = 0; i < capacity_; ++i) {
            auto& s = slots_[i];
            std::uint8_t expected = detail::redis::pool_slots::empty;
            if (!s.state.compare_exchange_strong(expected, detail::redis::pool_slots::busy, std::memory_order_acquire)) continue;
            open_in(s);
            hint = i;
            return lease(this, &s, now, false);
        }
        return std::nullopt;
    }

    /// Opens a connection in slot `s` (held busy by the caller), replacing
    /// whatever it held; on failure the slot is left empty and the error thrown.
    void open_in(slot_type& s) {
        s.conn.reset();
        try {
            s.conn.emplace(connector_, where_, options_.connect);
            if (setup_) setup_(*s.conn);
        } catch (...) {
            s.conn.reset();
            s.state.store(detail::redis::pool_slots::empty, std::memory_order_release);
            wake_one();
            throw;
        }
        const std::uint64_t epoch = health_epoch_.load(std::memory_order_acquire);
        s.checked_epoch = epoch;
        s.opened_epoch = epoch;
    }

    [[gnu::always_inline]] inline void give_back(slot_type& s, std::int64_t now) noexcept {
        if (s.conn->broken()) [[unlikely]] {
            // whatever broke it (a kill, a restart, a timeout) may have broken its
            // idle siblings too: each is checked before its next use
            health_epoch_.fetch_add(1, std::memory_order_acq_rel);
            s.conn.reset();
            s.state.store(detail::redis::pool_slots::empty, std::memory_order_seq_cst);
        } else {
            s.last_used_ms = now;
            s.state.store(detail::redis::pool_slots::idle, std::memory_order_seq_cst);
        }
        if (waiters_.load(std::memory_order_seq_cst) != 0) [[unlikely]]
            wake_one();
    }

    [[gnu::noinline]] void wake_one() noexcept {
        std::lock_guard guard(mutex_);
        wakeup_.notify_one();
    }

    typename S::connector connector_;
    endpoint where_;
    pool_options options_;
    setup_function setup_;
    std::size_t capacity_;
    std::unique_ptr<slot_type[]> slots_;
    std::atomic<std::uint64_t> health_epoch_{0};
    std::atomic<std::size_t> waiters_{0};
    std::mutex mutex_;
    std::condition_variable wakeup_;
};

/// The pool the backends use: connections over any_stream (TCP, Unix socket
/// or TLS, chosen from the endpoint).
using pool = basic_pool<detail::redis::any_stream>;

}  // namespace hotstate::redis
