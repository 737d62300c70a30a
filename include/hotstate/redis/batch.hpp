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
// Each operation sends one command value of detail/redis/proto/commands.hpp, the
// same the store's operations send, so the bytes and the reading of each reply
// are written once. On one server, the commands are appended to one output buffer and sent in
// one write; every reply is read before any is interpreted, so an error reply
// in the middle never leaves the connection out of step. Every operation is
// interpreted even when an earlier one failed; the first failure is thrown at
// the end. The operation list is a template parameter pack: results come back
// in a std::tuple, in call order, with no type erasure.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <hotstate/backend.hpp>
#include <hotstate/category.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/fixed_string.hpp>
#include <hotstate/detail/base/key_buffer.hpp>
#include <hotstate/detail/base/category_values.hpp>
#include <hotstate/detail/redis/io/pipeline_state.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/error.hpp>

namespace hotstate::detail::redis {

/// The shared face of the pipeline operations: a key buffer for category `C`
/// and the friend that reaches the private parts.
template <KeyCategory C>
class op_base {
public:
    /// The key category.
    using category = C;

protected:
    explicit op_base(std::string_view key) : key_(C::id, C::layout, key) {}
    ::hotstate::detail::key_buffer key_;
};

}  // namespace hotstate::detail::redis

/// The operations a pipeline can hold. Each names its key category; `idempotent`
/// says whether sending it twice has the effect of sending it once (reads,
/// set, erase, lookups) or not (incr, take), which decides whether it may be
/// sent again after a connection was lost.
namespace hotstate::redis::ops {


/// The value under a key of category `C`, or std::nullopt when missing or
/// expired, like store.get<C>. (GET key)
template <KeyCategory C>
class get : public detail::redis::op_base<C> {
public:
    /// The value, or std::nullopt.
    using result_type = std::optional<typename C::value_type>;
    /// A read.
    static constexpr bool idempotent = true;

    /// `key` as the store takes it.
    explicit get(std::string_view key) : detail::redis::op_base<C>(key) {}

private:
    friend struct detail::redis::pipeline_access;
    static constexpr std::string_view operation = "get";
    static constexpr bool reads_only = true;
    detail::redis::commands::get command() const noexcept { return detail::redis::commands::get(this->key_.view()); }
    void decode(std::optional<std::string_view> bytes, result_type& out) const {
        detail::redis::decode_value<C>(operation, bytes, out);
    }
};

/// Stores a value under a key of category `C`, like store.set<C>; the result is
/// always true (a failure throws). (SET key value [PX ms])
template <KeyCategory C>
class set : public detail::redis::op_base<C> {
public:
    /// Always true.
    using result_type = bool;
    /// The same value twice is the same state.
    static constexpr bool idempotent = true;

    /// `value` must fit the category's value type (checked at compile time);
    /// `expiry`, when given, must be positive (else errc::invalid_argument).
    template <class V>
    set(std::string_view key, const V& value, ::hotstate::ttl expiry = std::nullopt)
        : detail::redis::op_base<C>(key), ttl_(::hotstate::detail::expiry_of<C>(expiry, "set")) {
        ::hotstate::detail::check_value_type<C, V>();
        ::hotstate::detail::with_encoded_value<C>(value, [&](std::string_view bytes) { payload_.assign(bytes); });
    }

private:
    friend struct detail::redis::pipeline_access;
    static constexpr std::string_view operation = "set";
    static constexpr bool reads_only = false;
    detail::redis::commands::set command() const noexcept {
        return detail::redis::commands::set(this->key_.view(), payload_, std::int64_t{ttl_.count()});
    }
    void decode(bool ok, result_type& out) const noexcept { out = ok; }
    std::string payload_;
    std::chrono::milliseconds ttl_;
};

/// An operation on a key of category `C` whose answer is the command's own
/// (a flag or a counter), as the store's call answers it.
template <KeyCategory C, class Command, ::hotstate::fixed_string Operation, bool ReadsOnly>
class key_op : public detail::redis::op_base<C> {
public:
    /// The command's answer.
    using result_type = typename Command::result_type;
    /// The command's.
    static constexpr bool idempotent = Command::idempotent;

    /// `key` as the store takes it.
    explicit key_op(std::string_view key) : detail::redis::op_base<C>(key) {}

private:
    friend struct detail::redis::pipeline_access;
    static constexpr std::string_view operation = Operation.view();
    static constexpr bool reads_only = ReadsOnly;
    Command command() const noexcept { return Command(this->key_.view()); }
    void decode(result_type answer, result_type& out) const noexcept { out = answer; }
};

/// Deletes a key of category `C`; true when it existed, like store.erase<C>. (UNLINK key)
template <KeyCategory C>
using erase = key_op<C, detail::redis::commands::unlink, "erase", false>;

/// Whether a key of category `C` exists, like store.exists<C>. (EXISTS key)
template <KeyCategory C>
using exists = key_op<C, detail::redis::commands::exists, "exists", true>;

/// A counter of category `C`; a missing counter reads as 0, like store.counter<C>. (GET key)
template <CounterCategory C>
using counter = key_op<C, detail::redis::commands::get_integer, "counter", true>;

/// Gets and deletes a key of category `C` in one step, like store.take<C>:
/// of concurrent takes of one value exactly one gets it. (GETDEL key; on a
/// server older than 6.2, which does not know GETDEL, one GET + DEL script)
/// NOT idempotent: a second send finds nothing, and the value is lost to the
/// caller. Once it may have reached the server it must not be re-sent.
template <KeyCategory C>
class take : public detail::redis::op_base<C> {
public:
    /// The value, or std::nullopt when missing or expired.
    using result_type = std::optional<typename C::value_type>;
    /// NOT idempotent (see the class comment).
    static constexpr bool idempotent = false;

    /// `key` as the store takes it.
    explicit take(std::string_view key) : detail::redis::op_base<C>(key) {}

private:
    friend struct detail::redis::pipeline_access;
    static constexpr std::string_view operation = "take";
    static constexpr bool reads_only = false;
    detail::redis::commands::take command() const noexcept { return detail::redis::commands::take(this->key_.view()); }
    void decode(std::optional<std::string_view> bytes, result_type& out) const {
        detail::redis::decode_value<C>(operation, bytes, out);
    }
};

/// Adds `by` to a counter of category `C` and returns the new value, (re)applying
/// `expiry` when given, like store.increment<C>. (INCRBY, or MULTI/INCRBY/PEXPIRE/EXEC)
template <CounterCategory C>
class incr : public detail::redis::op_base<C> {
public:
    /// The counter's new value.
    using result_type = std::int64_t;
    /// NOT idempotent: each send adds `by` again.
    static constexpr bool idempotent = false;

    /// `expiry`, when given, must be positive (else errc::invalid_argument).
    explicit incr(std::string_view key, std::int64_t by = 1, ::hotstate::ttl expiry = std::nullopt)
        : detail::redis::op_base<C>(key), by_(by), expiry_(::hotstate::detail::expiry_of<C>(expiry, "increment")) {}

private:
    friend struct detail::redis::pipeline_access;
    static constexpr std::string_view operation = "increment";
    static constexpr bool reads_only = false;
    detail::redis::commands::increment command() const noexcept {
        return detail::redis::commands::increment(this->key_.view(), by_, std::int64_t{expiry_.count()});
    }
    void decode(std::int64_t value, result_type& out) const noexcept { out = value; }
    std::int64_t by_;
    std::chrono::milliseconds expiry_;
};

/// An operation on one member or field of the lookup `name_space` of category
/// `C` whose answer is the command's flag (SADD, SREM, SISMEMBER, HDEL).
template <KeyCategory C, class Command, ::hotstate::fixed_string Operation, bool ReadsOnly>
class member_op : public detail::redis::op_base<C> {
public:
    /// The command's flag.
    using result_type = bool;
    /// The command's.
    static constexpr bool idempotent = Command::idempotent;

    /// The lookup `name_space` and the member or field.
    member_op(std::string_view name_space, std::string_view member)
        : detail::redis::op_base<C>(name_space), member_(member) {}

private:
    friend struct detail::redis::pipeline_access;
    static constexpr std::string_view operation = Operation.view();
    static constexpr bool reads_only = ReadsOnly;
    Command command() const noexcept { return Command(this->key_.view(), member_); }
    void decode(bool answer, result_type& out) const noexcept { out = answer; }
    std::string member_;
};

/// Adds `member` to the set `name_space` of category `C`; true when it was not
/// there, like store.lookup_add<C>. (SADD key member)
template <KeyCategory C>
using lookup_add = member_op<C, detail::redis::commands::sadd, "lookup_add", false>;

/// Removes `member` from the set `name_space` of category `C`; true when it was
/// there, like store.lookup_remove<C>. (SREM key member)
template <KeyCategory C>
using lookup_remove = member_op<C, detail::redis::commands::srem, "lookup_remove", false>;

/// Whether `member` is in the set `name_space` of category `C`, like
/// store.lookup_contains<C>. (SISMEMBER key member)
template <KeyCategory C>
using lookup_contains = member_op<C, detail::redis::commands::sismember, "lookup_contains", true>;

/// Removes `field` from the key-value lookup `name_space` of category `C`; true
/// when it was there, like store.lookup_erase<C>. (HDEL key field)
template <KeyCategory C>
using lookup_erase = member_op<C, detail::redis::commands::hdel, "lookup_erase", false>;

/// Sets `field` of the key-value lookup `name_space` of category `C`, like
/// store.lookup_set<C>; the result is always true. (HSET key field value)
template <KeyCategory C>
class lookup_set : public detail::redis::op_base<C> {
public:
    /// Always true.
    using result_type = bool;
    /// The same value twice is the same state.
    static constexpr bool idempotent = true;

    /// `value` must fit the category's value type (checked at compile time).
    template <class V>
    lookup_set(std::string_view name_space, std::string_view field, const V& value)
        : detail::redis::op_base<C>(name_space), field_(field) {
        ::hotstate::detail::check_value_type<C, V>();
        ::hotstate::detail::with_encoded_value<C>(value, [&](std::string_view bytes) { payload_.assign(bytes); });
    }

private:
    friend struct detail::redis::pipeline_access;
    static constexpr std::string_view operation = "lookup_set";
    static constexpr bool reads_only = false;
    detail::redis::commands::hset command() const noexcept { return detail::redis::commands::hset(this->key_.view(), field_, payload_); }
    void decode(bool, result_type& out) const noexcept { out = true; }
    std::string field_;
    std::string payload_;
};

/// The value of `field` in the key-value lookup `name_space` of category `C`,
/// like store.lookup_get<C>. (HGET key field)
template <KeyCategory C>
class lookup_get : public detail::redis::op_base<C> {
public:
    /// The value, or std::nullopt.
    using result_type = std::optional<typename C::value_type>;
    /// A read.
    static constexpr bool idempotent = true;

    /// The lookup `name_space` and the field to read.
    lookup_get(std::string_view name_space, std::string_view field)
        : detail::redis::op_base<C>(name_space), field_(field) {}

private:
    friend struct detail::redis::pipeline_access;
    static constexpr std::string_view operation = "lookup_get";
    static constexpr bool reads_only = true;
    detail::redis::commands::hget command() const noexcept { return detail::redis::commands::hget(this->key_.view(), field_); }
    void decode(std::optional<std::string_view> bytes, result_type& out) const {
        detail::redis::decode_value<C>(operation, bytes, out);
    }
    std::string field_;
};

}  // namespace hotstate::redis::ops
