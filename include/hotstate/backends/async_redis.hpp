// hotstate/backends/async_redis.hpp: backends::async_redis, one multiplexed
// connection to a standalone Redis (or a Unix socket) on the user's executor.
//
// Use it with hotstate::async_store (hotstate/async_store.hpp). Every caller
// shares one connection: requests issued while a write is in flight go out
// together in the next write, replies are matched in order. The behaviour
// (bounded queue, timeouts, health checks, reconnect, at-most-once) is
// described in detail/async/connection.hpp and the README's "Asynchronous store".
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hotstate/detail/async/connection.hpp>
#include <hotstate/detail/async/operation.hpp>
#include <hotstate/detail/async/pipeline.hpp>
#include <hotstate/detail/redis/commands.hpp>
#include <hotstate/detail/redis/glob.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/redis/async_options.hpp>
#include <hotstate/redis/config.hpp>

namespace hotstate::backends {

/// One multiplexed, automatically pipelined connection to a Redis server, run
/// on the executor given; for hotstate::async_store.
class async_redis {
    struct one {
        std::string a;
    };
    struct two {
        std::string a, b;
    };
    struct three {
        std::string a, b, c;
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

    template <class T, class Data, class Make, class Finish, class Token>
    auto run(hotstate::redis::async_label label, Data data, Make make, Finish finish, Token& token) {
        using state_type = detail::async::state<Data, Make, Finish>;
        return detail::async::start<T>(*connection_, executor_,
                                       state_type{std::move(data), std::move(make), std::move(finish), label.operation,
                                                  label.category},
                                       std::forward<Token>(token));
    }


public:
    /// Connects (in the background, on `executor`) to `settings.url` with
    /// `settings.node`'s credentials and `options`' timeouts. Opens no
    /// connection synchronously; a wrong address surfaces as failing operations.
    async_redis(boost::asio::any_io_executor executor, const hotstate::redis::config& settings, hotstate::redis::async_options options = {})
        : executor_(executor),
          connection_(std::make_shared<detail::async::connection>(
              executor, hotstate::redis::resolve(settings),
              options)),
          fence_retention_ms_(settings.locks.fence_retention.count()) {
        connection_->start();
    }
    async_redis(const async_redis&) = delete;
    async_redis& operator=(const async_redis&) = delete;
    /// Closes the connection: operations still waiting fail with errc::connection.
    ~async_redis() { connection_->close(); }

    /// The executor completions run on unless a handler has its own.
    [[nodiscard]] const boost::asio::any_io_executor& get_executor() const noexcept { return executor_; }
    /// "host:port" or the socket path.
    [[nodiscard]] const std::string& address() const noexcept { return connection_->address(); }
    /// How many times the connection was opened (1 after the first; more after reconnects).
    [[nodiscard]] std::uint64_t connects() const noexcept { return connection_->connects(); }

    /// The multiplexed connection (for the front end).
    [[nodiscard]] detail::async::connection& connection() noexcept { return *connection_; }
    /// How long a lock's fencing state outlives its lease, in ms.
    [[nodiscard]] std::int64_t fence_retention_ms() const noexcept { return fence_retention_ms_; }

    // Operations on encoded keys, one command value of detail/redis/commands.hpp
    // each (the blocking backend's), completing with void(std::exception_ptr, T).
    // Each copies its arguments into the operation. `finish`, where taken, turns
    // the command's result (bytes in place in the reply) into the caller's T.

    /// SET key value [PX ms] (`expiry_ms` 0: none); true.
    template <class Token>
    auto async_kv_set(hotstate::redis::async_label label, std::string key, std::string value, std::int64_t expiry_ms,
                      Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(value)},
                         [expiry_ms](const two& d) { return detail::redis::commands::set(d.a, d.b, expiry_ms); }, same{}, token);
    }
    /// GET key: finish(std::optional<std::string_view>) -> T.
    template <class T, class Finish, class Token>
    auto async_kv_get(hotstate::redis::async_label label, std::string key, Finish finish, Token&& token) {
        return run<T>(label, one{std::move(key)}, [](const one& d) { return detail::redis::commands::get(d.a); }, drop(finish), token);
    }
    /// GETDEL key (or the GET + DEL script on servers before 6.2): finish as for async_kv_get.
    template <class T, class Finish, class Token>
    auto async_kv_take(hotstate::redis::async_label label, std::string key, Finish finish, Token&& token) {
        return run<T>(label, one{std::move(key)}, [this](const one& d) { return detail::redis::commands::take(d.a, &old_server_); },
                      drop(finish), token);
    }
    /// UNLINK key: whether it existed.
    template <class Token>
    auto async_kv_del(hotstate::redis::async_label label, std::string key, Token&& token) {
        return run<bool>(label, one{std::move(key)}, [](const one& d) { return detail::redis::commands::unlink(d.a); }, same{}, token);
    }
    /// EXISTS key.
    template <class Token>
    auto async_kv_exists(hotstate::redis::async_label label, std::string key, Token&& token) {
        return run<bool>(label, one{std::move(key)}, [](const one& d) { return detail::redis::commands::exists(d.a); }, same{}, token);
    }
    /// INCRBY key by (`expiry_ms` 0), or the increment-with-expiry transaction: the new value.
    template <class Token>
    auto async_counter_incr(hotstate::redis::async_label label, std::string key, std::int64_t by, std::int64_t expiry_ms,
                            Token&& token) {
        if (expiry_ms == 0)
            return run<std::int64_t>(label, one{std::move(key)}, [by](const one& d) { return detail::redis::commands::incr_by(d.a, by); },
                                     same{}, token);
        return run<std::int64_t>(label, one{std::move(key)},
                                 [by, expiry_ms](const one& d) { return detail::redis::commands::increment(d.a, by, expiry_ms); },
                                 same{}, token);
    }
    /// As async_counter_incr, the new value handed to finish(std::int64_t) -> T (a rate decision).
    template <class T, class Finish, class Token>
    auto async_counter_incr_as(hotstate::redis::async_label label, std::string key, std::int64_t by, std::int64_t expiry_ms,
                               Finish finish, Token&& token) {
        if (expiry_ms == 0)
            return run<T>(label, one{std::move(key)}, [by](const one& d) { return detail::redis::commands::incr_by(d.a, by); },
                          drop(finish), token);
        return run<T>(label, one{std::move(key)},
                      [by, expiry_ms](const one& d) { return detail::redis::commands::increment(d.a, by, expiry_ms); },
                      drop(finish), token);
    }
    /// As async_counter_get, the value handed to finish(std::int64_t) -> T.
    template <class T, class Finish, class Token>
    auto async_counter_get_as(hotstate::redis::async_label label, std::string key, Finish finish, Token&& token) {
        return run<T>(label, one{std::move(key)}, [](const one& d) { return detail::redis::commands::get_integer(d.a); },
                      drop(finish), token);
    }
    /// GET key as a counter (missing: 0).
    template <class Token>
    auto async_counter_get(hotstate::redis::async_label label, std::string key, Token&& token) {
        return run<std::int64_t>(label, one{std::move(key)}, [](const one& d) { return detail::redis::commands::get_integer(d.a); },
                                 same{}, token);
    }
    /// One GCRA step (the GCRA script) at `now_us`.
    template <class Token>
    auto async_gcra_check(hotstate::redis::async_label label, std::string key, rate_math::gcra_parameters params,
                          std::int64_t cost, std::int64_t now_us, Token&& token) {
        return run<rate_decision>(label, one{std::move(key)},
                                  [params, cost, now_us](const one& d) {
                                      return detail::redis::commands::gcra(d.a, now_us, params.emission_us, params.capacity_us, cost);
                                  },
                                  same{}, token);
    }
    /// SADD key member: whether it was added.
    template <class Token>
    auto async_set_add(hotstate::redis::async_label label, std::string key, std::string member, Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(member)}, [](const two& d) { return detail::redis::commands::sadd(d.a, d.b); },
                         same{}, token);
    }
    /// SREM key member: whether it was there.
    template <class Token>
    auto async_set_remove(hotstate::redis::async_label label, std::string key, std::string member, Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(member)}, [](const two& d) { return detail::redis::commands::srem(d.a, d.b); },
                         same{}, token);
    }
    /// SISMEMBER key member.
    template <class Token>
    auto async_set_contains(hotstate::redis::async_label label, std::string key, std::string member, Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(member)},
                         [](const two& d) { return detail::redis::commands::sismember(d.a, d.b); }, same{}, token);
    }
    /// HSET key field value: whether the field is new.
    template <class Token>
    auto async_map_set(hotstate::redis::async_label label, std::string key, std::string field, std::string value, Token&& token) {
        return run<bool>(label, three{std::move(key), std::move(field), std::move(value)},
                         [](const three& d) { return detail::redis::commands::hset(d.a, d.b, d.c); }, same{}, token);
    }
    /// HGET key field: finish as for async_kv_get.
    template <class T, class Finish, class Token>
    auto async_map_get(hotstate::redis::async_label label, std::string key, std::string field, Finish finish, Token&& token) {
        return run<T>(label, two{std::move(key), std::move(field)}, [](const two& d) { return detail::redis::commands::hget(d.a, d.b); },
                      drop(finish), token);
    }
    /// HDEL key field: whether it was there.
    template <class Token>
    auto async_map_remove(hotstate::redis::async_label label, std::string key, std::string field, Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(field)}, [](const two& d) { return detail::redis::commands::hdel(d.a, d.b); },
                         same{}, token);
    }
    /// Lock acquire (the lock script): finish(std::optional<std::uint64_t> fence, std::string key, std::string owner) -> T.
    template <class T, class Finish, class Token>
    auto async_lock_acquire(hotstate::redis::async_label label, std::string key, std::string owner, std::int64_t lease_ms,
                            Finish finish, Token&& token) {
        return run<T>(label, two{std::move(key), std::move(owner)},
                      [lease_ms, retention = fence_retention_ms_](const two& d) {
                          return detail::redis::commands::lock_acquire(d.a, d.b, lease_ms, retention);
                      },
                      [finish = std::move(finish)](std::optional<std::uint64_t> fence, two& d) {
                          return finish(fence, std::move(d.a), std::move(d.b));
                      },
                      token);
    }
    /// Owner-checked release: whether `owner` held it.
    template <class Token>
    auto async_lock_release(hotstate::redis::async_label label, std::string key, std::string owner, Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(owner)},
                         [](const two& d) { return detail::redis::commands::lock_release(d.a, d.b); }, same{}, token);
    }
    /// Owner-checked extend: whether the lease was renewed.
    template <class Token>
    auto async_lock_extend(hotstate::redis::async_label label, std::string key, std::string owner, std::int64_t lease_ms,
                           Token&& token) {
        return run<bool>(label, two{std::move(key), std::move(owner)},
                         [lease_ms, retention = fence_retention_ms_](const two& d) {
                             return detail::redis::commands::lock_extend(d.a, d.b, lease_ms, retention);
                         },
                         same{}, token);
    }
    /// A pipeline of hotstate::redis::ops (copied into the operation): every
    /// command in one request, the results as a std::tuple in call order; the
    /// first failure, after every operation was interpreted, completes instead.
    template <class Token, class... Ops>
    auto async_pipeline(std::tuple<Ops...> ops, Token&& token) {
        return detail::async::start_pipeline(*connection_, executor_, std::move(ops), std::forward<Token>(token));
    }
    /// Deletes every key starting with `prefix`: SCAN MATCH pages, each key
    /// UNLINKed (the UNLINKs of a page go out together); how many existed.
    template <class Token>
    auto async_kv_del_prefix(hotstate::redis::async_label label, std::string prefix, Token&& token) {
        return boost::asio::co_spawn(
            executor_,
            [this, label, prefix = std::move(prefix)]() -> boost::asio::awaitable<std::uint64_t> {
                using page = std::pair<std::string, std::vector<std::string>>;
                two at{"0", detail::redis::glob_prefix_pattern(prefix)};
                std::uint64_t removed = 0;
                auto await = boost::asio::use_awaitable;
                do {
                    page got = co_await run<page>(
                        label, at, [](const two& d) { return detail::redis::commands::scan(d.a, d.b); },
                        [](detail::redis::commands::scan_page p, const two&) {
                            page owned{std::string(p.cursor), {}};
                            for (std::size_t i = 0; i < p.keys.size(); ++i) owned.second.emplace_back(p.keys[i].text());
                            return owned;
                        },
                        await);
                    at.a = std::move(got.first);
                    for (auto& key : got.second)
                        if (co_await async_kv_del(label, std::move(key), await)) ++removed;
                } while (at.a != "0");
                co_return removed;
            },
            std::forward<Token>(token));
    }

private:
    boost::asio::any_io_executor executor_;
    std::shared_ptr<detail::async::connection> connection_;
    std::int64_t fence_retention_ms_;
    std::atomic<bool> old_server_{false};  ///< GETDEL unknown: the take script from then on
};

}  // namespace hotstate::backends
