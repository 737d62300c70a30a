// hotstate/detail/redis/commands.hpp: Redis commands as pure values.
//
// A command holds its arguments (views: it lives as long as the call that
// makes it) and knows two things, neither of them I/O:
//   - its request: with_args(f) hands `f` the argv arrays (on the stack), so a
//     connection encodes it on the stack and a pipeline appends it to its
//     buffer with write(out); both produce the same RESP bytes;
//   - the meaning of its reply: interpret(reply, address) gives the result, or
//     throws a typed hotstate::error (the server's classified error reply, or
//     errc::server for a reply of the wrong shape) naming the address and the
//     command. Redirects (MOVED, ASK, TRYAGAIN...) are the router's to classify
//     before a reply reaches interpret().
// A connection, a pipeline and (next) an asynchronous client all run these, so
// a pipelined GET and a store's GET cannot disagree about either side.
//
// Every command type satisfies the Command concept below.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <hiredis/hiredis.h>

#include <hotstate/detail/fixed_string.hpp>
#include <hotstate/detail/redis/errors.hpp>
#include <hotstate/detail/redis/resp.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/connection.hpp>

namespace hotstate::detail::redis::commands {

/// A Redis command as a value; see the banner.
template <class C>
concept Command = requires(const C& command, std::string& out, const ::hotstate::redis::reply& r,
                           std::string_view address) {
    typename C::result_type;
    { C::name } -> std::convertible_to<std::string_view>;
    { C::idempotent } -> std::convertible_to<bool>;
    { command.write(out) } -> std::same_as<void>;
    { command.interpret(r, address) } -> std::same_as<typename C::result_type>;
};

/// The error of a reply `command` did not expect: the server's classified error
/// for an error reply, errc::server naming the reply type otherwise.
[[noreturn, gnu::cold, gnu::noinline]] inline void unexpected(std::string_view address, std::string_view command,
                                                             const ::hotstate::redis::reply& r) {
    if (r.is_error()) throw server_error(address, command, r.text());
    static constexpr std::string_view names[] = {"?", "string", "array", "integer", "nil", "status", "error"};
    const int type = r.type();
    const std::string_view shown = type >= 0 && type < 7 ? names[type] : std::string_view("unknown");
    throw error(errc::server, context(address, command) + "unexpected " + std::string(shown) + " reply");
}

/// Appends the RESP encoding of `argc` arguments to `out`.
inline void append_request(std::string& out, std::size_t argc, const char* const* argv, const std::size_t* lengths) {
    std::size_t payload = 0;
    for (std::size_t i = 0; i < argc; ++i) payload += lengths[i];
    const std::size_t old_size = out.size();
    out.resize(old_size + payload + resp_overhead(argc));
    out.resize(old_size + format_command(out.data() + old_size, argc, argv, lengths));
}

/// The shared body of the commands: arguments as views, write() from with_args().
template <class Derived>
struct command_base {
    /// Appends the request's RESP bytes to `out`.
    void write(std::string& out) const {
        static_cast<const Derived&>(*this).with_args(
            [&](std::size_t argc, const char* const* argv, const std::size_t* lengths) {
                append_request(out, argc, argv, lengths);
            });
    }
};

/// Calls `f(argc, argv, lengths)` with arrays of the views, on the stack.
template <class F, class... Views>
decltype(auto) pass_args(F&& f, const Views&... views) {
    const char* argv[] = {std::string_view(views).data()...};
    const std::size_t lengths[] = {std::string_view(views).size()...};
    return f(sizeof...(Views), argv, lengths);
}

/// A bulk string or nil: the bytes in place (valid while the reply lives).
[[nodiscard]] inline std::optional<std::string_view> bulk_or_nil(std::string_view address, std::string_view command,
                                                                  const ::hotstate::redis::reply& r) {
    if (r.type() == REDIS_REPLY_STRING) [[likely]]
        return r.text();
    if (!r.is_nil()) unexpected(address, command, r);
    return std::nullopt;
}

/// An integer reply read as "did it change / exist": > 0.
[[nodiscard]] inline bool flag(std::string_view address, std::string_view command, const ::hotstate::redis::reply& r) {
    if (!r.is_integer()) [[unlikely]]
        unexpected(address, command, r);
    return r.integer() > 0;
}

/// GET key: the value's bytes, or nullopt when missing.
struct get : command_base<get> {
    using result_type = std::optional<std::string_view>;
    static constexpr std::string_view name = "GET";
    static constexpr bool idempotent = true;
    std::string_view key;
    explicit get(std::string_view k) noexcept : key(k) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name, key);
    }
    [[nodiscard]] result_type interpret(const ::hotstate::redis::reply& r, std::string_view address) const {
        return bulk_or_nil(address, name, r);
    }
};

/// GETDEL key: the value's bytes (now deleted), or nullopt when missing.
struct getdel : command_base<getdel> {
    using result_type = std::optional<std::string_view>;
    static constexpr std::string_view name = "GETDEL";
    static constexpr bool idempotent = false;
    std::string_view key;
    explicit getdel(std::string_view k) noexcept : key(k) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name, key);
    }
    [[nodiscard]] result_type interpret(const ::hotstate::redis::reply& r, std::string_view address) const {
        return bulk_or_nil(address, name, r);
    }
};

/// SET key value [PX ms]: true (OK); a failure throws.
struct set : command_base<set> {
    using result_type = bool;
    static constexpr std::string_view name = "SET";
    static constexpr bool idempotent = true;
    std::string_view key;
    std::string_view value;
    std::int64_t ttl_ms;  ///< 0: no expiry
    set(std::string_view k, std::string_view v, std::int64_t ttl = 0) noexcept : key(k), value(v), ttl_ms(ttl) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        if (ttl_ms > 0) {
            const ::hotstate::redis::int_arg ms(ttl_ms);
            return pass_args(f, name, key, value, std::string_view("PX"), ms.view());
        }
        return pass_args(f, name, key, value);
    }
    [[nodiscard]] result_type interpret(const ::hotstate::redis::reply& r, std::string_view address) const {
        if (r.type() != REDIS_REPLY_STATUS) [[unlikely]]
            unexpected(address, name, r);
        return true;
    }
};

/// INCRBY key amount: the new value.
struct incr_by : command_base<incr_by> {
    using result_type = std::int64_t;
    static constexpr std::string_view name = "INCRBY";
    static constexpr bool idempotent = false;
    std::string_view key;
    std::int64_t amount;
    incr_by(std::string_view k, std::int64_t by) noexcept : key(k), amount(by) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        const ::hotstate::redis::int_arg by(amount);
        return pass_args(f, name, key, by.view());
    }
    [[nodiscard]] result_type interpret(const ::hotstate::redis::reply& r, std::string_view address) const {
        if (!r.is_integer()) [[unlikely]]
            unexpected(address, name, r);
        return r.integer();
    }
};

/// UNLINK key: whether it existed.
struct unlink : command_base<unlink> {
    using result_type = bool;
    static constexpr std::string_view name = "UNLINK";
    static constexpr bool idempotent = true;
    std::string_view key;
    explicit unlink(std::string_view k) noexcept : key(k) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name, key);
    }
    [[nodiscard]] result_type interpret(const ::hotstate::redis::reply& r, std::string_view address) const {
        return flag(address, name, r);
    }
};

/// EXISTS key: whether it exists.
struct exists : command_base<exists> {
    using result_type = bool;
    static constexpr std::string_view name = "EXISTS";
    static constexpr bool idempotent = true;
    std::string_view key;
    explicit exists(std::string_view k) noexcept : key(k) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name, key);
    }
    [[nodiscard]] result_type interpret(const ::hotstate::redis::reply& r, std::string_view address) const {
        return flag(address, name, r);
    }
};

/// A command on a key and one member or field (SADD, SREM, SISMEMBER, HDEL): the integer reply as a flag.
template <::hotstate::fixed_string Name, bool Idempotent>
struct member_flag : command_base<member_flag<Name, Idempotent>> {
    using result_type = bool;
    static constexpr std::string_view name = Name.view();
    static constexpr bool idempotent = Idempotent;
    std::string_view key;
    std::string_view member;
    member_flag(std::string_view k, std::string_view m) noexcept : key(k), member(m) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name, key, member);
    }
    [[nodiscard]] result_type interpret(const ::hotstate::redis::reply& r, std::string_view address) const {
        return flag(address, name, r);
    }
};

/// SADD key member: whether it was added.
using sadd = member_flag<"SADD", true>;
/// SREM key member: whether it was there.
using srem = member_flag<"SREM", true>;
/// SISMEMBER key member: whether it is there.
using sismember = member_flag<"SISMEMBER", true>;
/// HDEL key field: whether it was there.
using hdel = member_flag<"HDEL", true>;

/// HSET key field value: whether the field is new.
struct hset : command_base<hset> {
    using result_type = bool;
    static constexpr std::string_view name = "HSET";
    static constexpr bool idempotent = true;
    std::string_view key;
    std::string_view field;
    std::string_view value;
    hset(std::string_view k, std::string_view f, std::string_view v) noexcept : key(k), field(f), value(v) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name, key, field, value);
    }
    [[nodiscard]] result_type interpret(const ::hotstate::redis::reply& r, std::string_view address) const {
        return flag(address, name, r);
    }
};

/// HGET key field: the field's bytes, or nullopt.
struct hget : command_base<hget> {
    using result_type = std::optional<std::string_view>;
    static constexpr std::string_view name = "HGET";
    static constexpr bool idempotent = true;
    std::string_view key;
    std::string_view field;
    hget(std::string_view k, std::string_view f) noexcept : key(k), field(f) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name, key, field);
    }
    [[nodiscard]] result_type interpret(const ::hotstate::redis::reply& r, std::string_view address) const {
        return bulk_or_nil(address, name, r);
    }
};

static_assert(Command<get> && Command<getdel> && Command<set> && Command<incr_by> && Command<unlink> &&
              Command<exists> && Command<sadd> && Command<srem> && Command<sismember> && Command<hdel> &&
              Command<hset> && Command<hget>);

}  // namespace hotstate::detail::redis::commands
