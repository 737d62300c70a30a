// hotstate/redis/batch.hpp: typed operations for pipelines.
//
//   namespace ops = hotstate::redis::ops;
//   auto [session, failures, code] = store.pipeline(ops::get<sessions>{"alice"},
//                                                   ops::incr<failed_logins>{"198.51.100.7", 1, 1h},
//                                                   ops::take<cat::oauth>{"c0de-42"});
//   // session: std::optional<session_info>, failures: std::int64_t, code: std::optional<std::string>
//
// Every operation names its key category, and takes the key as the store's
// calls take it: the category prefix is added, values are checked against the
// category's value type at compile time and encoded with its codec, results
// decoded with it. So a pipeline reads and writes exactly the keys the store
// does (store.pipeline also checks that every category is registered).
//
// On one server, the commands are appended to one output buffer and sent in
// one write; every reply is read before any is interpreted, so an error reply
// in the middle never leaves the connection out of step. Every operation is
// interpreted even when an earlier one failed; the first failure is thrown at
// the end. The operation list is a template parameter pack: results come back
// in a std::tuple, in call order, with no type erasure.
#pragma once

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include <hotstate/backend.hpp>
#include <hotstate/category.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/detail/key_buffer.hpp>
#include <hotstate/detail/redis/errors.hpp>
#include <hotstate/detail/redis/scripts.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>
#include <hotstate/store.hpp>

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

}  // namespace hotstate::redis

namespace hotstate::detail::redis {

/// Throws the error of `operation` on category `category_name` for a reply
/// that is not what `command` expects (an error reply keeps its classification).
[[noreturn, gnu::cold, gnu::noinline]] inline void fail_operation(std::string_view operation,
                                                                  std::string_view category_name,
                                                                  const ::hotstate::redis::connection& c,
                                                                  std::string_view command,
                                                                  const ::hotstate::redis::reply& r) {
    std::string text = "hotstate: ";
    text.append(operation).append(" on category '").append(category_name).append("': ");
    if (r.is_error()) {
        const error server = server_error(c.address(), command, r.text());
        throw error(server.kind(), text + server.message());
    }
    throw error(errc::server, text + context(c.address(), command) + "unexpected reply type " + std::to_string(r.type()));
}

/// A bulk-string-or-nil reply, decoded with category `C`'s codec.
template <class C>
std::optional<typename C::value_type> value_reply(const ::hotstate::redis::connection& c, std::string_view operation,
                                                  std::string_view command, const ::hotstate::redis::reply& r) {
    std::optional<typename C::value_type> result;
    if (r.type() == REDIS_REPLY_STRING) [[likely]] {
        try {
            decode_into<C>(r.text(), result);
        } catch (const error& failure) {
            throw error(failure.kind(), operation_context<C>(operation) + failure.message());
        }
        return result;
    }
    if (!r.is_nil()) fail_operation(operation, C::name, c, command, r);
    return result;
}

/// An integer reply, as "did it change anything".
template <class C>
bool flag_reply(const ::hotstate::redis::connection& c, std::string_view operation, std::string_view command,
                const ::hotstate::redis::reply& r) {
    if (!r.is_integer()) [[unlikely]]
        fail_operation(operation, C::name, c, command, r);
    return r.integer() > 0;
}

/// How the pipeline runners reach an operation's key and wire format, which
/// are not part of the operation's public face.
struct pipeline_access {
    template <class Op>
    static std::string_view key(const Op& op) noexcept {
        return op.key_.view();
    }
    template <class Op>
    static void send(const Op& op, ::hotstate::redis::connection& c) {
        op.send(c);
    }
    template <class Op>
    static typename Op::result_type receive(const Op& op, ::hotstate::redis::connection& c,
                                            ::hotstate::redis::reply& r) {
        return op.receive(c, r);
    }
    /// The command's name, for messages.
    template <class Op>
    static constexpr std::string_view command = Op::command;
    /// Whether it only reads (may go to a replica when reads are allowed there).
    template <class Op>
    static constexpr bool reads_only = Op::reads_only;
};

}  // namespace hotstate::detail::redis

/// The operations a pipeline can hold. Each names its key category; `idempotent`
/// says whether sending it twice has the effect of sending it once (reads,
/// set, erase, lookups) or not (incr, take), which decides whether it may be
/// sent again after a connection was lost.
namespace hotstate::redis::ops {

namespace detail_ops = ::hotstate::detail::redis;

/// The value under a key of category `C`, or std::nullopt when missing or
/// expired, like store.get<C>. (GET key)
template <KeyCategory C>
class get {
public:
    /// The key category.
    using category = C;
    /// The value, or std::nullopt.
    using result_type = std::optional<typename C::value_type>;
    /// A read.
    static constexpr bool idempotent = true;

    /// `key` as the store takes it.
    explicit get(std::string_view key) : key_(C::id, C::layout, key) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "GET";
    static constexpr bool reads_only = true;
    void send(connection& c) const { c.append(command, "GET", key_.view()); }
    result_type receive(connection& c, reply& r) const { return detail_ops::value_reply<C>(c, "get", command, r); }
    ::hotstate::detail::key_buffer key_;
};

/// Stores a value under a key of category `C`, like store.set<C>; the result is
/// always true (a failure throws). (SET key value [PX ms])
template <KeyCategory C>
class set {
public:
    /// The key category.
    using category = C;
    /// Always true.
    using result_type = bool;
    /// The same value twice is the same state.
    static constexpr bool idempotent = true;

    /// `value` must fit the category's value type (checked at compile time);
    /// `expiry`, when given, must be positive (else errc::invalid_argument).
    template <class V>
    set(std::string_view key, const V& value, ::hotstate::ttl expiry = std::nullopt)
        : key_(C::id, C::layout, key), ttl_(::hotstate::detail::expiry_of<C>(expiry, "set")) {
        ::hotstate::detail::check_value_type<C, V>();
        ::hotstate::detail::with_encoded_value<C>(value, [&](std::string_view bytes) { payload_.assign(bytes); });
    }

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "SET";
    static constexpr bool reads_only = false;
    void send(connection& c) const {
        if (ttl_.count() > 0)
            c.append(command, "SET", key_.view(), payload_, "PX", int_arg(std::int64_t{ttl_.count()}));
        else
            c.append(command, "SET", key_.view(), payload_);
    }
    result_type receive(connection& c, reply& r) const {
        if (r.type() != REDIS_REPLY_STATUS) [[unlikely]]
            detail_ops::fail_operation("set", C::name, c, command, r);
        return true;
    }
    ::hotstate::detail::key_buffer key_;
    std::string payload_;
    std::chrono::milliseconds ttl_;
};

/// Deletes a key of category `C`; true when it existed, like store.erase<C>. (UNLINK key)
template <KeyCategory C>
class erase {
public:
    /// The key category.
    using category = C;
    /// Whether the key existed.
    using result_type = bool;
    /// Deleting twice leaves the same state.
    static constexpr bool idempotent = true;

    /// `key` as the store takes it.
    explicit erase(std::string_view key) : key_(C::id, C::layout, key) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "UNLINK";
    static constexpr bool reads_only = false;
    void send(connection& c) const { c.append(command, "UNLINK", key_.view()); }
    result_type receive(connection& c, reply& r) const { return detail_ops::flag_reply<C>(c, "erase", command, r); }
    ::hotstate::detail::key_buffer key_;
};

/// Whether a key of category `C` exists, like store.exists<C>. (EXISTS key)
template <KeyCategory C>
class exists {
public:
    /// The key category.
    using category = C;
    /// Whether it exists.
    using result_type = bool;
    /// A read.
    static constexpr bool idempotent = true;

    /// `key` as the store takes it.
    explicit exists(std::string_view key) : key_(C::id, C::layout, key) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "EXISTS";
    static constexpr bool reads_only = true;
    void send(connection& c) const { c.append(command, "EXISTS", key_.view()); }
    result_type receive(connection& c, reply& r) const { return detail_ops::flag_reply<C>(c, "exists", command, r); }
    ::hotstate::detail::key_buffer key_;
};

/// Gets and deletes a key of category `C` in one step, like store.take<C>:
/// of concurrent takes of one value exactly one gets it. (GETDEL key; on a
/// server older than 6.2, which does not know GETDEL, one GET + DEL script)
template <KeyCategory C>
class take {
public:
    /// The key category.
    using category = C;
    /// The value, or std::nullopt when missing or expired.
    using result_type = std::optional<typename C::value_type>;
    /// NOT idempotent: a second send finds nothing, and the value is lost to
    /// the caller. Once it may have reached the server it must not be re-sent.
    static constexpr bool idempotent = false;

    /// `key` as the store takes it.
    explicit take(std::string_view key) : key_(C::id, C::layout, key) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "GETDEL";
    static constexpr bool reads_only = false;
    void send(connection& c) const { c.append(command, "GETDEL", key_.view()); }
    result_type receive(connection& c, reply& r) const {
        if (r.is_error() && detail_ops::is_unknown_command(r.text())) [[unlikely]]
            r = c.command(detail_ops::take_fallback.name, "EVAL", detail_ops::take_fallback.text, "1", key_.view());
        return detail_ops::value_reply<C>(c, "take", command, r);
    }
    ::hotstate::detail::key_buffer key_;
};

/// Adds `by` to a counter of category `C` and returns the new value, (re)applying
/// `expiry` when given, like store.increment<C>. (INCRBY, or INCRBY + PEXPIRE in one script)
template <CounterCategory C>
class incr {
public:
    /// The key category.
    using category = C;
    /// The counter's new value.
    using result_type = std::int64_t;
    /// NOT idempotent: each send adds `by` again.
    static constexpr bool idempotent = false;

    /// `expiry`, when given, must be positive (else errc::invalid_argument).
    explicit incr(std::string_view key, std::int64_t by = 1, ::hotstate::ttl expiry = std::nullopt)
        : key_(C::id, C::layout, key), by_(by), expiry_(::hotstate::detail::expiry_of<C>(expiry, "increment")) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "INCRBY";
    static constexpr bool reads_only = false;
    void send(connection& c) const {
        if (expiry_.count() > 0)
            c.append(command, "EVALSHA", ::hotstate::detail::redis::counter_incr_expire.sha_view(), "1", key_.view(),
                     int_arg(by_), int_arg(std::int64_t{expiry_.count()}));
        else
            c.append(command, "INCRBY", key_.view(), int_arg(by_));
    }
    result_type receive(connection& c, reply& r) const {
        // NOSCRIPT: the script never ran, so EVAL (which loads it) may take its place
        if (r.is_error() && expiry_.count() > 0 && ::hotstate::detail::redis::is_noscript(r.text())) [[unlikely]]
            r = c.command(command, "EVAL", ::hotstate::detail::redis::counter_incr_expire.text, "1", key_.view(),
                          int_arg(by_), int_arg(std::int64_t{expiry_.count()}));
        if (!r.is_integer()) [[unlikely]]
            detail_ops::fail_operation("increment", C::name, c, command, r);
        return r.integer();
    }
    ::hotstate::detail::key_buffer key_;
    std::int64_t by_;
    std::chrono::milliseconds expiry_;
};

/// A counter of category `C`; a missing counter reads as 0, like store.counter<C>. (GET key)
template <CounterCategory C>
class counter {
public:
    /// The key category.
    using category = C;
    /// The counter's value.
    using result_type = std::int64_t;
    /// A read.
    static constexpr bool idempotent = true;

    /// `key` as the store takes it.
    explicit counter(std::string_view key) : key_(C::id, C::layout, key) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "GET";
    static constexpr bool reads_only = true;
    void send(connection& c) const { c.append(command, "GET", key_.view()); }
    result_type receive(connection& c, reply& r) const {
        if (r.is_nil()) return 0;
        if (r.type() != REDIS_REPLY_STRING) [[unlikely]]
            detail_ops::fail_operation("counter", C::name, c, command, r);
        std::int64_t value = 0;
        const auto text = r.text();
        const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
        if (parsed.ec != std::errc{} || parsed.ptr != text.data() + text.size() || text.empty())
            throw error(errc::wrong_type, ::hotstate::detail::operation_context<C>("counter") +
                                              ::hotstate::detail::redis::context(c.address(), command) +
                                              "the value is not an integer");
        return value;
    }
    ::hotstate::detail::key_buffer key_;
};

/// Adds `member` to the set `name_space` of category `C`; true when it was not
/// there, like store.lookup_add<C>. (SADD key member)
template <KeyCategory C>
class lookup_add {
public:
    /// The key category.
    using category = C;
    /// Whether it was added.
    using result_type = bool;
    /// Adding twice leaves the same set.
    static constexpr bool idempotent = true;

    /// The set `name_space` and the member to add.
    lookup_add(std::string_view name_space, std::string_view member)
        : key_(C::id, C::layout, name_space), member_(member) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "SADD";
    static constexpr bool reads_only = false;
    void send(connection& c) const { c.append(command, "SADD", key_.view(), member_); }
    result_type receive(connection& c, reply& r) const { return detail_ops::flag_reply<C>(c, "lookup_add", command, r); }
    ::hotstate::detail::key_buffer key_;
    std::string member_;
};

/// Removes `member` from the set `name_space` of category `C`; true when it was
/// there, like store.lookup_remove<C>. (SREM key member)
template <KeyCategory C>
class lookup_remove {
public:
    /// The key category.
    using category = C;
    /// Whether it was there.
    using result_type = bool;
    /// Removing twice leaves the same set.
    static constexpr bool idempotent = true;

    /// The set `name_space` and the member to remove.
    lookup_remove(std::string_view name_space, std::string_view member)
        : key_(C::id, C::layout, name_space), member_(member) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "SREM";
    static constexpr bool reads_only = false;
    void send(connection& c) const { c.append(command, "SREM", key_.view(), member_); }
    result_type receive(connection& c, reply& r) const {
        return detail_ops::flag_reply<C>(c, "lookup_remove", command, r);
    }
    ::hotstate::detail::key_buffer key_;
    std::string member_;
};

/// Whether `member` is in the set `name_space` of category `C`, like
/// store.lookup_contains<C>. (SISMEMBER key member)
template <KeyCategory C>
class lookup_contains {
public:
    /// The key category.
    using category = C;
    /// Whether it is there.
    using result_type = bool;
    /// A read.
    static constexpr bool idempotent = true;

    /// The set `name_space` and the member to look for.
    lookup_contains(std::string_view name_space, std::string_view member)
        : key_(C::id, C::layout, name_space), member_(member) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "SISMEMBER";
    static constexpr bool reads_only = true;
    void send(connection& c) const { c.append(command, "SISMEMBER", key_.view(), member_); }
    result_type receive(connection& c, reply& r) const {
        return detail_ops::flag_reply<C>(c, "lookup_contains", command, r);
    }
    ::hotstate::detail::key_buffer key_;
    std::string member_;
};

/// Sets `field` of the key-value lookup `name_space` of category `C`, like
/// store.lookup_set<C>; the result is always true. (HSET key field value)
template <KeyCategory C>
class lookup_set {
public:
    /// The key category.
    using category = C;
    /// Always true.
    using result_type = bool;
    /// The same value twice is the same state.
    static constexpr bool idempotent = true;

    /// `value` must fit the category's value type (checked at compile time).
    template <class V>
    lookup_set(std::string_view name_space, std::string_view field, const V& value)
        : key_(C::id, C::layout, name_space), field_(field) {
        ::hotstate::detail::check_value_type<C, V>();
        ::hotstate::detail::with_encoded_value<C>(value, [&](std::string_view bytes) { payload_.assign(bytes); });
    }

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "HSET";
    static constexpr bool reads_only = false;
    void send(connection& c) const { c.append(command, "HSET", key_.view(), field_, payload_); }
    result_type receive(connection& c, reply& r) const {
        if (!r.is_integer()) [[unlikely]]
            detail_ops::fail_operation("lookup_set", C::name, c, command, r);
        return true;
    }
    ::hotstate::detail::key_buffer key_;
    std::string field_;
    std::string payload_;
};

/// The value of `field` in the key-value lookup `name_space` of category `C`,
/// like store.lookup_get<C>. (HGET key field)
template <KeyCategory C>
class lookup_get {
public:
    /// The key category.
    using category = C;
    /// The value, or std::nullopt.
    using result_type = std::optional<typename C::value_type>;
    /// A read.
    static constexpr bool idempotent = true;

    /// The lookup `name_space` and the field to read.
    lookup_get(std::string_view name_space, std::string_view field)
        : key_(C::id, C::layout, name_space), field_(field) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "HGET";
    static constexpr bool reads_only = true;
    void send(connection& c) const { c.append(command, "HGET", key_.view(), field_); }
    result_type receive(connection& c, reply& r) const {
        return detail_ops::value_reply<C>(c, "lookup_get", command, r);
    }
    ::hotstate::detail::key_buffer key_;
    std::string field_;
};

/// Removes `field` from the key-value lookup `name_space` of category `C`; true
/// when it was there, like store.lookup_erase<C>. (HDEL key field)
template <KeyCategory C>
class lookup_erase {
public:
    /// The key category.
    using category = C;
    /// Whether it was there.
    using result_type = bool;
    /// Removing twice leaves the same state.
    static constexpr bool idempotent = true;

    /// The lookup `name_space` and the field to remove.
    lookup_erase(std::string_view name_space, std::string_view field)
        : key_(C::id, C::layout, name_space), field_(field) {}

private:
    friend struct detail_ops::pipeline_access;
    static constexpr std::string_view command = "HDEL";
    static constexpr bool reads_only = false;
    void send(connection& c) const { c.append(command, "HDEL", key_.view(), field_); }
    result_type receive(connection& c, reply& r) const {
        return detail_ops::flag_reply<C>(c, "lookup_erase", command, r);
    }
    ::hotstate::detail::key_buffer key_;
    std::string field_;
};

}  // namespace hotstate::redis::ops

namespace hotstate::detail::redis {

/// Where a pipeline's results gather while its operations run, on one
/// connection or in several groups (one per cluster node).
template <class... Ops>
class pipeline_state {
public:
    static constexpr std::size_t size = sizeof...(Ops);
    /// Whether every operation may be sent again once it may have reached the server.
    static constexpr bool idempotent = (Ops::idempotent && ...);
    /// Per operation, the same.
    static constexpr std::array<bool, size> idempotent_each{Ops::idempotent...};

    /// Forgets everything (a router runs the body again).
    void reset() {
        results_ = {};
        deferred_.fill(false);
        failure_ = nullptr;
    }

    /// Keeps the first failure; the others are the same story told later.
    void fail(std::exception_ptr failure) noexcept {
        if (!failure_) failure_ = std::move(failure);
    }

    template <std::size_t I, class Value>
    void store(Value&& value) {
        std::get<I>(results_).emplace(std::forward<Value>(value));
    }

    /// Marks operation `i` to be run alone (its reply was a redirect).
    void defer(std::size_t i) noexcept { deferred_[i] = true; }
    [[nodiscard]] bool deferred(std::size_t i) const noexcept { return deferred_[i]; }
    void undefer(std::size_t i) noexcept { deferred_[i] = false; }

    /// The results in call order; throws the first failure, if any.
    std::tuple<typename Ops::result_type...> finish() {
        if (failure_) std::rethrow_exception(failure_);
        return finish(std::index_sequence_for<Ops...>{});
    }

private:
    template <std::size_t... I>
    std::tuple<typename Ops::result_type...> finish(std::index_sequence<I...>) {
        return std::tuple<typename Ops::result_type...>{std::move(*std::get<I>(results_))...};
    }

    std::tuple<std::optional<typename Ops::result_type>...> results_;
    std::array<bool, size> deferred_{};
    std::exception_ptr failure_;
};

/// Selects every operation (one server).
struct select_all {
    constexpr bool operator()(std::size_t) const noexcept { return true; }
};

/// Follows no redirect (a standalone server: every error reply is final).
struct defer_none {
    constexpr bool operator()(const ::hotstate::redis::connection&, const ::hotstate::redis::reply&) const noexcept {
        return false;
    }
};

template <std::size_t I, class State, class Selected, class Defer, class Op>
void interpret_one(::hotstate::redis::connection& c, State& state, const Selected& selected, const Defer& defer,
                   ::hotstate::redis::reply& r, const Op& op) {
    if (!selected(I)) return;
    if (defer(c, r)) [[unlikely]] {
        state.defer(I);
        return;
    }
    try {
        state.template store<I>(pipeline_access::receive(op, c, r));
    } catch (...) {
        state.fail(std::current_exception());
    }
}

template <std::size_t... I, class State, class Selected, class Defer, class... Ops>
void run_group(std::index_sequence<I...>, ::hotstate::redis::connection& c, State& state, const Selected& selected,
               const Defer& defer, const Ops&... ops) {
    ((selected(I) ? pipeline_access::send(ops, c) : void()), ...);
    std::array<::hotstate::redis::reply, sizeof...(Ops)> replies;
    ((selected(I) ? void(replies[I] = c.read_reply(pipeline_access::command<Ops>)) : void()), ...);
    (interpret_one<I>(c, state, selected, defer, replies[I], ops), ...);
}

/// Runs on `c` the operations `selected(i)` picks: appends them in call order
/// (one write), reads every reply, then interprets each in call order into
/// `state`. A reply `defer(c, reply)` accepts (a redirect) leaves its operation
/// deferred, to be run alone; an operation that fails keeps its error for the
/// end, so the others are still interpreted. An I/O error throws at once (the
/// connection is then broken, and no reply of this group was interpreted).
template <class Selected, class Defer, class... Ops>
void run_group(::hotstate::redis::connection& c, pipeline_state<Ops...>& state, const Selected& selected,
               const Defer& defer, const Ops&... ops) {
    run_group(std::index_sequence_for<Ops...>{}, c, state, selected, defer, ops...);
}

}  // namespace hotstate::detail::redis
