// hotstate/redis/batch.hpp: several operations in one pipeline, typed results.
//
//   namespace ops = hotstate::redis::ops;
//   auto [session, hits, gone] = backend.pipeline(ops::get{k1}, ops::incr{k2, 1, 60s}, ops::del{k3});
//   // session: std::optional<std::string>, hits: std::int64_t, gone: bool
//
// The *_of<Category> operations take the plain key, encode it as the store
// does, and encode/decode values with the category's codec:
//   auto [user, n] = backend.pipeline(ops::get_of<users>("alice"), ops::incr_of<logins>("alice", 1, 1h));
//   // user: std::optional<user_record>, n: std::int64_t
//
// All commands are appended to the connection's output buffer and sent at once, then
// every reply is read (redisGetReply) before any is interpreted, so an error
// reply in the middle (thrown as hotstate::error after the whole pipeline was
// read) never leaves the connection out of step. The operation list is a
// template parameter pack: no allocation, no type erasure, results in a tuple.
#pragma once

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <hotstate/category.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/detail/redis/errors.hpp>
#include <hotstate/detail/redis/scripts.hpp>
#include <hotstate/error.hpp>
#include <hotstate/key.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::redis {

/// EVALSHA of `s` on one key; on NOSCRIPT (restart, SCRIPT FLUSH) it falls back
/// to EVAL, which also loads the script again. An error reply throws.
template <class... Args>
reply eval_script(connection& c, const detail::redis::script& s, std::string_view key, const Args&... args) {
    reply r = c.command(s.name, "EVALSHA", s.sha_view(), "1", key, args...);
    if (r.is_error()) [[unlikely]] {
        if (!detail::redis::is_noscript(r.text())) throw detail::redis::server_error(c.address(), s.name, r.text());
        r = c.command(s.name, "EVAL", s.text, "1", key, args...);
        if (r.is_error()) throw detail::redis::server_error(c.address(), s.name, r.text());
    }
    return r;
}

/// An operation that can go into a pipeline: it appends its command, then
/// turns its reply into `result_type` (it may run a follow-up command on the
/// connection, e.g. EVAL after NOSCRIPT: all pipeline replies are read by then).
template <class Op>
concept PipelineOp = requires(const Op& op, connection& c, const config& settings, reply& r) {
    typename Op::result_type;
    op.send(c, settings);
    { op.receive(c, settings, r) } -> std::same_as<typename Op::result_type>;
};

namespace detail_batch {
[[noreturn]] inline void unexpected(const connection& c, std::string_view command, const reply& r) {
    if (r.is_error()) throw detail::redis::server_error(c.address(), command, r.text());
    throw error(errc::server, detail::redis::context(c.address(), command) + "unexpected reply type " +
                                  std::to_string(r.type()));
}
inline bool integer_flag(const connection& c, std::string_view command, const reply& r) {
    if (!r.is_integer()) unexpected(c, command, r);
    return r.integer() > 0;
}
}  // namespace detail_batch

/// The operations a pipeline can hold; keys are encoded keys.
namespace ops {

/// GET key
struct get {
    std::string_view key;
    using result_type = std::optional<std::string>;
    void send(connection& c, const config&) const { c.append("GET", "GET", key); }
    result_type receive(connection& c, const config&, reply& r) const {
        if (r.type() == REDIS_REPLY_STRING) return std::string(r.text());
        if (r.is_nil()) return std::nullopt;
        detail_batch::unexpected(c, "GET", r);
    }
};

/// SET key value [PX ttl]; the result is always true.
struct set {
    std::string_view key;
    std::string_view value;
    std::chrono::milliseconds ttl{0};
    using result_type = bool;
    void send(connection& c, const config&) const {
        if (ttl.count() > 0)
            c.append("SET", "SET", key, value, "PX", int_arg(std::int64_t{ttl.count()}));
        else
            c.append("SET", "SET", key, value);
    }
    result_type receive(connection& c, const config&, reply& r) const {
        if (r.type() != REDIS_REPLY_STATUS) detail_batch::unexpected(c, "SET", r);
        return true;
    }
};

/// UNLINK key; true when it existed.
struct del {
    std::string_view key;
    using result_type = bool;
    void send(connection& c, const config&) const { c.append("UNLINK", "UNLINK", key); }
    result_type receive(connection& c, const config&, reply& r) const { return detail_batch::integer_flag(c, "UNLINK", r); }
};

/// EXISTS key
struct exists {
    std::string_view key;
    using result_type = bool;
    void send(connection& c, const config&) const { c.append("EXISTS", "EXISTS", key); }
    result_type receive(connection& c, const config&, reply& r) const { return detail_batch::integer_flag(c, "EXISTS", r); }
};

/// Counter increment with optional expiry (INCRBY, or the INCRBY + PEXPIRE script).
struct incr {
    std::string_view key;
    std::int64_t by = 1;
    std::chrono::milliseconds expiry{0};
    using result_type = std::int64_t;
    void send(connection& c, const config&) const {
        if (expiry.count() > 0)
            c.append("increment", "EVALSHA", detail::redis::counter_incr_expire.sha_view(), "1", key, int_arg(by),
                     int_arg(std::int64_t{expiry.count()}));
        else
            c.append("INCRBY", "INCRBY", key, int_arg(by));
    }
    result_type receive(connection& c, const config&, reply& r) const {
        if (r.is_error() && expiry.count() > 0 && detail::redis::is_noscript(r.text()))
            r = eval_script(c, detail::redis::counter_incr_expire, key, int_arg(by), int_arg(std::int64_t{expiry.count()}));
        if (!r.is_integer()) detail_batch::unexpected(c, "INCRBY", r);
        return r.integer();
    }
};

/// SADD key member; true when it was added.
struct set_add {
    std::string_view key;
    std::string_view member;
    using result_type = bool;
    void send(connection& c, const config&) const { c.append("SADD", "SADD", key, member); }
    result_type receive(connection& c, const config&, reply& r) const { return detail_batch::integer_flag(c, "SADD", r); }
};

/// SISMEMBER key member
struct set_contains {
    std::string_view key;
    std::string_view member;
    using result_type = bool;
    void send(connection& c, const config&) const { c.append("SISMEMBER", "SISMEMBER", key, member); }
    result_type receive(connection& c, const config&, reply& r) const {
        return detail_batch::integer_flag(c, "SISMEMBER", r);
    }
};

/// HGET key field
struct map_get {
    std::string_view key;
    std::string_view field;
    using result_type = std::optional<std::string>;
    void send(connection& c, const config&) const { c.append("HGET", "HGET", key, field); }
    result_type receive(connection& c, const config&, reply& r) const {
        if (r.type() == REDIS_REPLY_STRING) return std::string(r.text());
        if (r.is_nil()) return std::nullopt;
        detail_batch::unexpected(c, "HGET", r);
    }
};

/// GET of a category's key; the value decoded with the category's codec.
template <KeyCategory C>
struct get_of {
    std::string key;
    explicit get_of(std::string_view plain_key) : key(encode_key<C>(plain_key)) {}
    using result_type = std::optional<typename C::value_type>;
    void send(connection& c, const config& settings) const { get{key}.send(c, settings); }
    result_type receive(connection& c, const config&, reply& r) const {
        if (r.type() == REDIS_REPLY_STRING) {
            try {
                return codec<typename C::value_type>::decode(r.text());
            } catch (const error& failure) {
                throw error(failure.kind(), "hotstate: get on category '" + std::string(C::name) + "': " + failure.what());
            }
        }
        if (r.is_nil()) return std::nullopt;
        detail_batch::unexpected(c, "GET", r);
    }
};

/// SET of a category's key; the value encoded with the category's codec.
template <KeyCategory C>
struct set_of {
    std::string key;
    std::string payload;
    std::chrono::milliseconds ttl{0};
    template <class V>
    set_of(std::string_view plain_key, const V& value, std::chrono::milliseconds expiry = std::chrono::milliseconds{0})
        : key(encode_key<C>(plain_key)), ttl(expiry) {
        using value_type = typename C::value_type;
        if constexpr (std::is_same_v<value_type, std::string>)
            payload.append(std::string_view(value));
        else
            codec<value_type>::encode(static_cast<const value_type&>(value), payload);
    }
    using result_type = bool;
    void send(connection& c, const config& settings) const { set{key, payload, ttl}.send(c, settings); }
    result_type receive(connection& c, const config& settings, reply& r) const {
        return set{key, payload, ttl}.receive(c, settings, r);
    }
};

/// Counter increment of a category's key, with optional expiry.
template <CounterCategory C>
struct incr_of {
    std::string key;
    std::int64_t by = 1;
    std::chrono::milliseconds expiry{0};
    explicit incr_of(std::string_view plain_key, std::int64_t amount = 1,
                     std::chrono::milliseconds expires = std::chrono::milliseconds{0})
        : key(encode_key<C>(plain_key)), by(amount), expiry(expires) {}
    using result_type = std::int64_t;
    void send(connection& c, const config& settings) const { incr{key, by, expiry}.send(c, settings); }
    result_type receive(connection& c, const config& settings, reply& r) const {
        return incr{key, by, expiry}.receive(c, settings, r);
    }
};

/// UNLINK of a category's key; true when it existed.
template <KeyCategory C>
struct erase_of {
    std::string key;
    explicit erase_of(std::string_view plain_key) : key(encode_key<C>(plain_key)) {}
    using result_type = bool;
    void send(connection& c, const config& settings) const { del{key}.send(c, settings); }
    result_type receive(connection& c, const config& settings, reply& r) const { return del{key}.receive(c, settings, r); }
};

}  // namespace ops

namespace detail_batch {
template <std::size_t... I, class... Ops>
std::tuple<typename Ops::result_type...> receive_all(connection& c, const config& settings,
                                                     std::array<reply, sizeof...(Ops)>& replies,
                                                     std::index_sequence<I...>, const Ops&... ops) {
    // a braced list evaluates left to right: replies are interpreted in order
    return std::tuple<typename Ops::result_type...>{ops.receive(c, settings, replies[I])...};
}
}  // namespace detail_batch

/// Sends `ops` in one pipeline on `c` and returns their results in order.
template <PipelineOp... Ops>
std::tuple<typename Ops::result_type...> run_pipeline(connection& c, const config& settings, const Ops&... ops) {
    static_assert(sizeof...(Ops) > 0, "hotstate: a pipeline needs at least one operation");
    (ops.send(c, settings), ...);
    std::array<reply, sizeof...(Ops)> replies;
    for (auto& r : replies) r = c.read_reply("pipeline");
    return detail_batch::receive_all(c, settings, replies, std::index_sequence_for<Ops...>{}, ops...);
}

}  // namespace hotstate::redis
