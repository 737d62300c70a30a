// hotstate/detail/async/routing/redis_operations.hpp: the store operations of the
// asynchronous Redis backends (backends::async_redis, async_redis_cluster),
// written once; where each one goes is the backend's.
//
// Every operation is one command value of detail/redis/proto/commands.hpp (the
// blocking backends' own), run as detail/async/io/operation.hpp's operation on
// the route the backend gives for its key (`route_of(key, read)`: the
// standalone backend's one connection, or the cluster's slot owner (a replica
// of it for a read, when reading from replicas), which follows MOVED/ASK and
// retries). Erasing by prefix SCANs every node the backend
// names (`scan_nodes()`: its one server, or every master).
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <atomic>
#include <exception>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hotstate/backend.hpp>
#include <hotstate/detail/async/io/connection.hpp>
#include <hotstate/detail/async/io/operation.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/proto/glob.hpp>
#include <hotstate/error.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/redis/async_options.hpp>

namespace hotstate::detail::async {

/// The operations of an asynchronous Redis backend `Backend` (CRTP), which
/// gives `route_of(std::string_view key, bool read)` (a route, see operation.hpp) and
/// `scan_nodes()` (an awaitable of the connections a prefix scan visits).
template <class Backend>
class redis_operations {
protected:
    struct one {
        std::string a;
    };
    struct two {
        std::string a, b;
    };
    struct three {
        std::string a, b, c;
    };
    /// A lock acquire's key and owner token: an outcome it cannot learn leaves
    /// the caller that token (lock_outcome_unknown), so it is never locked out.
    struct lock_request {
        std::string a, b;
        [[nodiscard]] std::exception_ptr unknown_outcome(const error& e) const {
            return std::make_exception_ptr(lock_outcome_unknown(e, b));
        }
    };
    struct same {
        template <class R, class D>
        R operator()(R r, const D&) const {
            return r;
        }
    };
    template <class Finish>
    static auto drop(Finish finish) {
        return [finish = std::move(finish)](auto result, const auto&) { return finish(result); };
    }

    /// Runs the operation where `route` says.
    template <class T, class Route, class Data, class Make, class Finish, class Token>
    auto run_on(Route route, hotstate::redis::async_label label, Data data, Make make, Finish finish, Token& token) {
        using state_type = state<Data, Make, Finish>;
        return start_routed<T>(std::move(route), executor_,
                               state_type{std::move(data), std::move(make), std::move(finish), label.operation, label.category},
                               std::forward<Token>(token));
    }
    /// Runs the operation on the node of its key (`data.a`), as the backend
    /// routes it; `Read`: a read a replica may serve (read_from_replicas).
    template <class T, bool Read = false, class Data, class Make, class Finish, class Token>
    auto run(hotstate::redis::async_label label, Data data, Make make, Finish finish, Token& token) {
        auto route = static_cast<Backend&>(*this).route_of(std::string_view(data.a), Read);
        return run_on<T>(std::move(route), label, std::move(data), std::move(make), std::move(finish), token);
    }

    redis_operations(asio::any_io_executor executor, std::int64_t fence_retention_ms) noexcept
        : executor_(std::move(executor)), fence_retention_ms_(fence_retention_ms) {}
    ~redis_operations() = default;

public:
    redis_operations(const redis_operations&) = delete;
    redis_operations& operator=(const redis_operations&) = delete;

    /// The executor completions run on unless a handler has its own.
    [[nodiscard]] const asio::any_io_executor& get_executor() const noexcept { return executor_; }
    /// How long a lock's fencing state outlives its lease, in ms.
    [[nodiscard]] std::int64_t fence_retention_ms() const noexcept { return fence_retention_ms_; }

    // Operations on encoded keys, one command value of detail/redis/proto/commands.hpp
    // each (the blocking backend's), completing with void(std::exception_ptr, T).
    // Each copies its arguments into the operation. `finish`, where taken, turns
    // the command's result (bytes in place in the reply) into the caller's T.

    /// SET key value [PX ms] (`expiry_ms` 0: none); true.
    template <class Token>
    auto async_kv_set(hotstate::redis::async_label label, std::string key, std::string value, std::int64_t expiry_ms,
                      Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(value)},
                         [expiry_ms](const two& d) { return redis::commands::set(d.a, d.b, expiry_ms); }, same{}, token);
    }
    /// GET key: finish(std::optional<std::string_view>) -> T.
    template <class T, class Finish, class Token>
    auto async_kv_get(hotstate::redis::async_label label, std::string key, Finish finish, Token&& token) {
        return run<T, true>(label, one{std::move(key)}, [](const one& d) { return redis::commands::get(d.a); }, drop(finish), token);
    }
    /// GETDEL key (or the GET + DEL script on servers before 6.2): finish as for async_kv_get.
    template <class T, class Finish, class Token>
    auto async_kv_take(hotstate::redis::async_label label, std::string key, Finish finish, Token&& token) {
        return run<T>(label, one{std::move(key)}, [this](const one& d) { return redis::commands::take(d.a, &old_server_); },
                      drop(finish), token);
    }
    /// UNLINK key: whether it existed.
    template <class Token>
    auto async_kv_del(hotstate::redis::async_label label, std::string key, Token&& token) {
        return run<bool>(label, one{std::move(key)}, [](const one& d) { return redis::commands::unlink(d.a); }, same{}, token);
    }
    /// EXISTS key.
    template <class Token>
    auto async_kv_exists(hotstate::redis::async_label label, std::string key, Token&& token) {
        return run<bool, true>(label, one{std::move(key)}, [](const one& d) { return redis::commands::exists(d.a); }, same{}, token);
    }
    /// INCRBY key by (`expiry_ms` 0), or the increment-with-expiry transaction: the new value.
    template <class Token>
    auto async_counter_incr(hotstate::redis::async_label label, std::string key, std::int64_t by, std::int64_t expiry_ms,
                            Token&& token) {
        if (expiry_ms == 0)
            return run<std::int64_t>(label, one{std::move(key)}, [by](const one& d) { return redis::commands::incr_by(d.a, by); },
                                     same{}, token);
        return run<std::int64_t>(label, one{std::move(key)},
                                 [by, expiry_ms](const one& d) { return redis::commands::increment(d.a, by, expiry_ms); },
                                 same{}, token);
    }
    /// As async_counter_incr, the new value handed to finish(std::int64_t) -> T (a rate decision).
    template <class T, class Finish, class Token>
    auto async_counter_incr_as(hotstate::redis::async_label label, std::string key, std::int64_t by, std::int64_t expiry_ms,
                               Finish finish, Token&& token) {
        if (expiry_ms == 0)
            return run<T>(label, one{std::move(key)}, [by](const one& d) { return redis::commands::incr_by(d.a, by); },
                          drop(finish), token);
        return run<T>(label, one{std::move(key)},
                      [by, expiry_ms](const one& d) { return redis::commands::increment(d.a, by, expiry_ms); },
                      drop(finish), token);
    }
    /// As async_counter_get, the value handed to finish(std::int64_t) -> T.
    template <class T, class Finish, class Token>
    auto async_counter_get_as(hotstate::redis::async_label label, std::string key, Finish finish, Token&& token) {
        return run<T, true>(label, one{std::move(key)}, [](const one& d) { return redis::commands::get_integer(d.a); },
                      drop(finish), token);
    }
    /// GET key as a counter (missing: 0).
    template <class Token>
    auto async_counter_get(hotstate::redis::async_label label, std::string key, Token&& token) {
        return run<std::int64_t, true>(label, one{std::move(key)}, [](const one& d) { return redis::commands::get_integer(d.a); },
                                 same{}, token);
    }
    /// One GCRA step (the GCRA script) at `now_us`.
    template <class Token>
    auto async_gcra_check(hotstate::redis::async_label label, std::string key, rate_math::gcra_parameters params,
                          std::int64_t cost, std::int64_t now_us, Token&& token) {
        return run<rate_decision>(label, one{std::move(key)},
                                  [params, cost, now_us](const one& d) {
                                      return redis::commands::gcra(d.a, now_us, params.emission_us, params.capacity_us, cost);
                                  },
                                  same{}, token);
    }
    /// SADD key member: whether it was added.
    template <class Token>
    auto async_set_add(hotstate::redis::async_label label, std::string key, std::string member, Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(member)}, [](const two& d) { return redis::commands::sadd(d.a, d.b); },
                         same{}, token);
    }
    /// SREM key member: whether it was there.
    template <class Token>
    auto async_set_remove(hotstate::redis::async_label label, std::string key, std::string member, Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(member)}, [](const two& d) { return redis::commands::srem(d.a, d.b); },
                         same{}, token);
    }
    /// SISMEMBER key member.
    template <class Token>
    auto async_set_contains(hotstate::redis::async_label label, std::string key, std::string member, Token&& token) {
        return run<bool, true>(label, two{std::move(key), std::move(member)},
                         [](const two& d) { return redis::commands::sismember(d.a, d.b); }, same{}, token);
    }
    /// HSET key field value: whether the field is new.
    template <class Token>
    auto async_map_set(hotstate::redis::async_label label, std::string key, std::string field, std::string value, Token&& token) {
        return run<bool>(label, three{std::move(key), std::move(field), std::move(value)},
                         [](const three& d) { return redis::commands::hset(d.a, d.b, d.c); }, same{}, token);
    }
    /// HGET key field: finish as for async_kv_get.
    template <class T, class Finish, class Token>
    auto async_map_get(hotstate::redis::async_label label, std::string key, std::string field, Finish finish, Token&& token) {
        return run<T, true>(label, two{std::move(key), std::move(field)}, [](const two& d) { return redis::commands::hget(d.a, d.b); },
                      drop(finish), token);
    }
    /// HDEL key field: whether it was there.
    template <class Token>
    auto async_map_remove(hotstate::redis::async_label label, std::string key, std::string field, Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(field)}, [](const two& d) { return redis::commands::hdel(d.a, d.b); },
                         same{}, token);
    }
    /// Lock acquire (the lock script): finish(std::optional<std::uint64_t> fence, std::string key, std::string owner) -> T.
    template <class T, class Finish, class Token>
    auto async_lock_acquire(hotstate::redis::async_label label, std::string key, std::string owner, std::int64_t lease_ms,
                            Finish finish, Token&& token) {
        return run<T>(label, lock_request{std::move(key), std::move(owner)},
                      [lease_ms, retention = fence_retention_ms_](const lock_request& d) {
                          return redis::commands::lock_acquire(d.a, d.b, lease_ms, retention);
                      },
                      [finish = std::move(finish)](std::optional<std::uint64_t> fence, lock_request& d) {
                          return finish(fence, std::move(d.a), std::move(d.b));
                      },
                      token);
    }
    /// Owner-checked release of the lease `fence` names: whether `owner` held
    /// it, or (`attempt` after_unknown_outcome) whether an earlier release of
    /// it that may have run did (the blocking backends' lock_release).
    template <class Token>
    auto async_lock_release(hotstate::redis::async_label label, std::string key, std::string owner, std::uint64_t fence,
                            release_attempt attempt, Token&& token) {
        return async_lock_release<bool>(label, std::move(key), std::move(owner), fence, attempt,
                                        [](bool released) { return released; }, token);
    }
    /// Owner-checked release, its answer handed to `finish` (on the
    /// connection's strand) before the caller's completion.
    template <class T, class Finish, class Token>
    auto async_lock_release(hotstate::redis::async_label label, std::string key, std::string owner, std::uint64_t fence,
                            release_attempt attempt, Finish finish, Token&& token) {
        const bool sent_before = attempt == release_attempt::after_unknown_outcome;
        return run<T>(label, two{std::move(key), std::move(owner)},
                      [fence, sent_before](const two& d) { return redis::commands::lock_release(d.a, d.b, fence, sent_before); },
                      drop(std::move(finish)), token);
    }
    /// Owner-checked extend: whether the lease was renewed.
    template <class Token>
    auto async_lock_extend(hotstate::redis::async_label label, std::string key, std::string owner, std::int64_t lease_ms,
                           Token&& token) {
        return async_lock_extend<bool>(label, std::move(key), std::move(owner), lease_ms,
                                       [](bool renewed) { return renewed; }, token);
    }
    /// Owner-checked extend: whether the lease was renewed, handed to `finish`
    /// (on the connection's strand) before the caller's completion.
    template <class T, class Finish, class Token>
    auto async_lock_extend(hotstate::redis::async_label label, std::string key, std::string owner, std::int64_t lease_ms,
                           Finish finish, Token&& token) {
        return run<T>(label, two{std::move(key), std::move(owner)},
                      [lease_ms, retention = fence_retention_ms_](const two& d) {
                          return redis::commands::lock_extend(d.a, d.b, lease_ms, retention);
                      },
                      drop(std::move(finish)), token);
    }
    /// Deletes every key starting with `prefix`: SCAN MATCH pages on every node
    /// of scan_nodes(), each key UNLINKed where its key routes (the UNLINKs of a
    /// page go out together); how many existed.
    template <class Token>
    auto async_kv_del_prefix(hotstate::redis::async_label label, std::string prefix, Token&& token) {
        return asio::co_spawn(
            executor_,
            [this, label, prefix = std::move(prefix)]() -> asio::awaitable<std::uint64_t> {
                using page = std::pair<std::string, std::vector<std::string>>;
                std::uint64_t removed = 0;
                auto await = asio::use_awaitable;
                const std::vector<std::shared_ptr<connection>> nodes = co_await static_cast<Backend&>(*this).scan_nodes();
                for (const auto& node : nodes) {
                    two at{"0", redis::glob_prefix_pattern(prefix)};
                    do {
                        page got = co_await run_on<page>(
                            direct_route{node.get()}, label, at, [](const two& d) { return redis::commands::scan(d.a, d.b); },
                            [](redis::commands::scan_page p, const two&) {
                                page owned{std::string(p.cursor), {}};
                                for (std::size_t i = 0; i < p.keys.size(); ++i) owned.second.emplace_back(p.keys[i].text());
                                return owned;
                            },
                            await);
                        at.a = std::move(got.first);
                        for (auto& key : got.second)
                            if (co_await async_kv_del(label, std::move(key), await)) ++removed;
                    } while (at.a != "0");
                }
                co_return removed;
            },
            std::forward<Token>(token));
    }

protected:
    asio::any_io_executor executor_;
    std::int64_t fence_retention_ms_;
    std::atomic<bool> old_server_{false};  ///< GETDEL unknown: the take script from then on
};

}  // namespace hotstate::detail::async
