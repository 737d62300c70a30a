// hotstate/detail/redis/routing/sentinel_router.hpp: routing of the Redis Sentinel
// backend: every command goes to the master the sentinels name.
//
// The master is found with SENTINEL get-master-addr-by-name, asking the
// sentinels in order, and checked with ROLE on every new connection (a
// sentinel may still name a demoted master for a moment). A connection error
// or a READONLY/LOADING/MASTERDOWN reply makes the router ask the sentinels
// again (once per failure generation, however many threads fail at once) and
// retry after the backoff, within the same retry budget as the cluster.
// The hot path is one atomic load and the master's pool. As on a cluster, a
// connection lost (or a reply timed out) after the request was written is
// retried only for an idempotent operation; a redis::once operation then fails
// with error::outcome_unknown() (see pool.hpp). Refusals (READONLY, LOADING,
// MASTERDOWN) and connections that could not be opened are always retried:
// the command did not run.
#pragma once

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
#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/redis/proto/errors.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::detail::redis::routing {

/// Reads a SENTINEL get-master-addr-by-name reply ([host, port]); nullopt for
/// nil (the sentinel does not know the service) or anything malformed.
[[nodiscard]] inline std::optional<node_address> parse_master_address(::hotstate::redis::reply_view reply) {
    if (!reply || reply.is_error()) return std::nullopt;
    return detail::redis::commands::sentinel_master({}).interpret(reply, std::string_view());
}

/// Routes every command to the master of a sentinel-monitored service.
class sentinel_router {
public:
    using config_type = ::hotstate::redis::sentinel_config;
    using connection = ::hotstate::redis::connection;
    /// READONLY, LOADING, MASTERDOWN mean a failover: ask the sentinels, retry.
    static constexpr bool follows_redirects = true;
    /// Every key lives on the one master.
    static constexpr bool one_node = true;

    /// Validates `settings` (errc::configuration); connects to nothing yet.
    explicit sentinel_router(config_type settings) : settings_(std::move(settings)) {
        const auto fail = [](const std::string& why) {
            return error(errc::configuration, "hotstate: redis_sentinel configuration: " + why);
        };
        if (settings_.service_name.empty()) throw fail("service_name must not be empty");
        if (settings_.sentinel_urls.empty()) throw fail("sentinel_urls must name at least one sentinel");
        for (const auto& url : settings_.sentinel_urls) {
            ::hotstate::redis::config sentinel;
            sentinel.url = url;
            sentinel.node = settings_.node;  // the master's settings, the sentinels' own credentials
            sentinel.node.auth_username = settings_.sentinel_username;
            sentinel.node.auth_secret = settings_.sentinel_secret;
            sentinel.node.tls.enabled = false;  // the sentinel's own URL decides (rediss://)
            sentinels_.push_back(::hotstate::redis::resolve(sentinel));  // refuses resp3, TLS, bad URLs
        }
        const ::hotstate::redis::config master = node_config(settings_, "redis://127.0.0.1");  // the host comes from the sentinels
        master_template_ = ::hotstate::redis::resolve(master);
        master_template_.db = settings_.db;
        pool_options_ = ::hotstate::redis::pool_options::from(master);
        connect_options_ = pool_options_.connect;
        // one TLS context (files read once) for every master the sentinels name and every
        // sentinel query: both take their TLS files from settings.node.tls
        bool any_tls = master_template_.tls.enabled;
        for (const auto& sentinel : sentinels_) any_tls = any_tls || sentinel.tls.enabled;
        if (any_tls) tls_context_ = detail::redis::tls_context(master_template_.tls);
    }

    sentinel_router(const sentinel_router&) = delete;
    sentinel_router& operator=(const sentinel_router&) = delete;

    [[nodiscard]] const config_type& settings() const noexcept { return settings_; }

    /// The retry budget of every request (the configuration's).
    [[nodiscard]] ::hotstate::redis::retry_policy retry_budget() const noexcept { return settings_.retry; }

    /// Runs attempts of exchange `ex` on the master until one gives an
    /// outcome; after a failure or a refusal (READONLY, LOADING, MASTERDOWN)
    /// the sentinels are asked again before the next attempt, within the
    /// budget. The key does not matter.
    template <std::size_t N, class Attempt>
    [[gnu::always_inline]] inline decltype(auto) execute(std::string_view, access, proto::exchange<N, true>& ex,
                                                         std::string_view command, Attempt&& attempt) {
        master_route route{*this};
        return routed_attempts(route, ex, command, attempt);
    }

    /// Runs `body(connection&)`, a body that writes and reads by itself, as a
    /// request of effect `E` on the master.
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

    /// Runs `body` on the master (there is one); fan-out bodies (PING, SCAN +
    /// UNLINK) are idempotent in effect.
    template <class Body>
    void for_each_master(std::string_view command, Body&& body) {
        execute({}, access::write, ::hotstate::redis::idempotent, command, std::forward<Body>(body));
    }

    /// Asks the sentinels for the master unless someone did since generation
    /// `seen`; true when a sentinel answered.
    bool discover(std::uint64_t seen) {
        std::scoped_lock guard(discover_mutex_);
        if (generation_.load(std::memory_order_acquire) != seen && current_.load(std::memory_order_acquire) != nullptr)
            return true;
        for (const auto& sentinel : sentinels_) {
            try {
                connection c(detail::redis::make_connector(sentinel, connect_options_, tls_context_), sentinel,
                             connect_options_);
                const auto address =
                    detail::redis::run<false>(c, detail::redis::commands::sentinel_master(settings_.service_name));
                if (!address) {
                    last_discovery_error_ = "sentinel " + sentinel.address() + " does not know the service '" +
                                            settings_.service_name + "'";
                    last_discovery_kind_ = errc::connection;
                    continue;
                }
                current_.store(intern(*address), std::memory_order_release);
                discoveries_.fetch_add(1, std::memory_order_relaxed);
                generation_.fetch_add(1, std::memory_order_acq_rel);
                return true;
            } catch (const error& e) {
                last_discovery_error_ = message_of(e);
                last_discovery_kind_ = e.kind();
            }
        }
        generation_.fetch_add(1, std::memory_order_acq_rel);
        return false;
    }

    /// The master in use now ("host:port"), or empty before the first discovery.
    [[nodiscard]] std::string master_address() const {
        const cluster_node* master = current_.load(std::memory_order_acquire);
        return master ? master->address.to_string() : std::string();
    }
    /// Sentinel discoveries that named a master.
    [[nodiscard]] std::uint64_t discovery_count() const noexcept { return discoveries_.load(std::memory_order_relaxed); }
    /// Failed attempts that were retried.
    [[nodiscard]] std::uint64_t retry_count() const noexcept { return failures_.load(std::memory_order_relaxed); }

private:
    /// Where the attempts of a request go (routed_attempts): the master the
    /// sentinels named last; they are asked again before every retry.
    struct master_route {
        static constexpr std::string_view backend = "redis_sentinel";
        sentinel_router& router;
        cluster_node* master = nullptr;  ///< of the current attempt
        std::uint64_t seen = 0;          ///< the discovery generation of the current attempt

        [[gnu::always_inline]] ::hotstate::redis::pool* target() {
            seen = router.generation_.load(std::memory_order_acquire);
            master = router.current_.load(std::memory_order_acquire);
            if (master == nullptr) [[unlikely]] {
                router.discover(seen);
                seen = router.generation_.load(std::memory_order_acquire);
                master = router.current_.load(std::memory_order_acquire);
            }
            return master ? &master->pool : nullptr;
        }
        std::string unreachable(errc& kind) { return router.discovery_failure(kind); }
        void look_again(const attempt_end& end) {
            router.failures_.fetch_add(1, std::memory_order_relaxed);
            router.discover(seen);  // once per failure generation, however many requests failed
            if (end.next.wait.count() > 0) std::this_thread::sleep_for(end.next.wait);  // the backoff
        }
        [[nodiscard]] std::string where() const { return router.where_text(master); }
    };

    std::string where_text(const cluster_node* master) const {
        return "service '" + settings_.service_name + "' master " +
               (master ? master->address.to_string() : std::string("(unknown)"));
    }

    std::string discovery_failure(errc& kind) {
        std::scoped_lock guard(discover_mutex_);
        kind = last_discovery_kind_;
        return "no sentinel named a master (last: " +
               (last_discovery_error_.empty() ? std::string("nothing tried") : last_discovery_error_) + ")";
    }

    /// The node for `address`, created (with a lazy pool) on first sight; called under discover_mutex_.
    cluster_node* intern(const node_address& address) {
        for (const auto& known : nodes_)
            if (known->address == address) return known.get();
        ::hotstate::redis::endpoint where = master_template_;
        where.host = address.host;
        where.port = address.port;
        auto setup = [](connection& c) {
            // a sentinel may name a master that was just demoted: refuse it, ask again
            if (!detail::redis::run<false>(c, detail::redis::commands::role{}))
                throw error(errc::connection,
                            detail::redis::context(c.address(), "ROLE") + "not a master (yet); asking the sentinels again");
            load_scripts(c);
        };
        nodes_.push_back(std::make_unique<cluster_node>(address, where, pool_options_, setup, tls_context_));
        return nodes_.back().get();
    }

    config_type settings_;
    std::vector<::hotstate::redis::endpoint> sentinels_;
    ::hotstate::redis::endpoint master_template_;
    ::hotstate::redis::pool_options pool_options_;
    ::hotstate::redis::connection_options connect_options_;
    detail::redis::tls_context tls_context_;  // node.tls, loaded once when a master or a sentinel uses TLS
    std::atomic<cluster_node*> current_{nullptr};
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<std::uint64_t> discoveries_{0};
    std::atomic<std::uint64_t> failures_{0};
    std::mutex discover_mutex_;
    std::vector<std::unique_ptr<cluster_node>> nodes_;  // guarded by discover_mutex_; never shrinks
    std::string last_discovery_error_;                  // guarded by discover_mutex_
    errc last_discovery_kind_ = errc::connection;       // guarded by discover_mutex_
};

static_assert(Router<sentinel_router>);

}  // namespace hotstate::detail::redis::routing
