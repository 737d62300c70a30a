// hotstate/detail/redis/proto/commands.hpp: Redis commands as pure values.
//
// A command holds its arguments (views: it lives as long as the call that
// makes it) and knows two things, neither of them I/O:
//   - its request: with_args(f) hands `f` the argv arrays (on the stack), so a
//     connection encodes it on the stack and a pipeline appends it to its
//     buffer with write(out); both produce the same RESP bytes;
//   - the meaning of its reply: interpret(reply, where) gives the result, or
//     throws: `redirected` for an error reply a router acts on (MOVED, ASK,
//     TRYAGAIN, CLUSTERDOWN, READONLY, LOADING, MASTERDOWN), when `where` says
//     the caller follows redirects; else a typed hotstate::error (the server's
//     classified error reply, or errc::server for a reply of the wrong shape)
//     naming the address and the command.
// A command whose reply can ask for another request in its place has a
// fallback (has_fallback): fallback_on(reply) says whether this reply is such
// a request (NOSCRIPT for a script run by EVALSHA; "unknown command" for
// GETDEL on a server older than 6.2: nothing ran either way), and
// with_fallback_args(f) is the request to send instead (EVAL, which loads the
// script). Every script runs through script_command, so the EVALSHA/EVAL
// choice is written once; the one place that sends the fallback is
// detail/redis/io/run.hpp (blocking) and the pipeline runner.
// A connection, a pipeline and (next) an asynchronous client all run these, so
// a pipelined GET and a store's GET cannot disagree about either side.
//
// Every command type satisfies the Command concept below.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/redis/proto/redirect.hpp>
#include <hotstate/detail/redis/proto/slots_reply.hpp>
#include <hotstate/fixed_string.hpp>
#include <hotstate/detail/redis/proto/errors.hpp>
#include <hotstate/detail/redis/proto/resp.hpp>
#include <hotstate/detail/redis/proto/scripts.hpp>
#include <hotstate/error.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/redis/reply.hpp>

namespace hotstate::detail::redis::commands {

using ::hotstate::redis::reply_view;

/// Where a reply came from, and whether the caller follows redirects.
struct reply_context {
    /// The server's "host:port" (or socket path), for messages and "MOVED 1 :port".
    std::string_view address;
    /// Whether an error reply a router acts on throws `redirected` (cluster and
    /// sentinel routers) instead of a hotstate::error (a standalone server).
    bool redirects = false;
    /// Implicit from an address: a caller that follows no redirect.
    constexpr reply_context(std::string_view at, bool follow = false) noexcept : address(at), redirects(follow) {}
};

/// Thrown by interpret() for an error reply the router handles (see
/// reply_context::redirects); carries the classification and the server's text
/// (no key bytes: Redis puts none in these replies). Never leaves a router.
struct redirected {
    routing::classified_error what;
    std::string message;
    std::string address;
};

/// A Redis command as a value; see the banner.
template <class C>
concept Command = requires(const C& command, std::string& out, reply_view r, reply_context where) {
    typename C::result_type;
    { C::name } -> std::convertible_to<std::string_view>;
    { C::idempotent } -> std::convertible_to<bool>;
    { command.write(out) } -> std::same_as<void>;
    { command.interpret(r, where) } -> std::same_as<typename C::result_type>;
};

/// A command whose reply may ask for another request in its place (see the banner).
template <class C>
concept HasFallback = Command<C> && requires(const C& command, reply_view r, std::string& out) {
    { command.fallback_on(r) } -> std::same_as<bool>;
    { command.write_fallback(out) } -> std::same_as<void>;
};

/// The host part of a "host:port" address (for "MOVED 1 :port"); anything
/// else (a socket path) as it is.
[[nodiscard]] inline std::string_view host_of(std::string_view address) noexcept {
    const auto parsed = parse_host_port(address);
    return parsed ? parsed->host : address;
}

/// The error of a reply `command` did not expect: `redirected` for an error
/// reply a router acts on (when `where` follows redirects), the server's
/// classified error for any other error reply, errc::server naming the reply
/// type otherwise. Out of line and cold: the hot paths only test a type.
[[noreturn, gnu::cold, gnu::noinline]] inline void unexpected(reply_context where, std::string_view command,
                                                             reply_view r) {
    if (r.is_error()) {
        if (where.redirects) {
            auto classified = routing::classify_error(r.text(), host_of(where.address));
            if (classified.kind != routing::failure_kind::none)
                throw redirected{std::move(classified), std::string(r.text()), std::string(where.address)};
        }
        throw server_error(where.address, command, r.text());
    }
    static constexpr std::string_view names[] = {"?", "string", "array", "integer", "nil", "status", "error"};
    const int type = r.type();
    const std::string_view shown = type >= 0 && type < 7 ? names[type] : std::string_view("unknown");
    throw error(errc::server, context(where.address, command) + "unexpected " + std::string(shown) + " reply");
}

/// Appends the RESP encoding of `argc` arguments to `out`.
inline void append_request(std::string& out, std::size_t argc, const char* const* argv, const std::size_t* lengths) {
    std::size_t payload = 0;
    for (std::size_t i = 0; i < argc; ++i) payload += lengths[i];
    const std::size_t old_size = out.size();
    out.resize(old_size + payload + resp_overhead(argc));
    out.resize(old_size + format_command(out.data() + old_size, argc, argv, lengths));
}

/// A callable of the argument-array shape, for requires-clauses (clang 14
/// rejects a lambda there).
struct argument_sink {
    void operator()(std::size_t, const char* const*, const std::size_t*) const noexcept {}
};

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
    /// Appends the fallback request's RESP bytes (a command with with_fallback_args).
    /// `Self` defers the check to the call: clang 14 checks a non-template
    /// member's constraint when the class is completed, before Derived is.
    template <class Self = Derived>
    void write_fallback(std::string& out) const
        requires requires(const Self& command, argument_sink sink) { command.with_fallback_args(sink); }
    {
        static_cast<const Self&>(*this).with_fallback_args(
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
[[nodiscard]] inline std::optional<std::string_view> bulk_or_nil(reply_context where, std::string_view command, reply_view r) {
    if (r.type() == REDIS_REPLY_STRING) [[likely]]
        return r.text();
    if (!r.is_nil()) unexpected(where, command, r);
    return std::nullopt;
}

/// An integer reply read as "did it change / exist": > 0.
[[nodiscard]] inline bool flag(reply_context where, std::string_view command, reply_view r) {
    if (!r.is_integer()) [[unlikely]]
        unexpected(where, command, r);
    return r.integer() > 0;
}

/// A counter's GET: a missing key reads as 0; bytes that are not a decimal
/// int64 are errc::wrong_type.
[[nodiscard]] inline std::int64_t integer_or_zero(reply_context where, std::string_view command, reply_view r) {
    if (r.is_nil()) return 0;
    if (!r.is_string()) [[unlikely]]
        unexpected(where, command, r);
    const auto value = parse_decimal<std::int64_t>(r.text());
    if (!value) [[unlikely]]
        throw error(errc::wrong_type, context(where.address, command) + "the value is not an integer");
    return *value;
}

/// A command that is nothing but its name, a key, `More` further arguments
/// and a reply read by `Read` (bulk_or_nil, flag, integer_or_zero): the plain
/// commands below are one line each, and a new one is one more.
template <::hotstate::fixed_string Name, bool Idempotent, auto Read, std::size_t More = 0>
struct key_command : command_base<key_command<Name, Idempotent, Read, More>> {
    using result_type = decltype(Read(std::declval<reply_context>(), std::string_view{}, std::declval<reply_view>()));
    static constexpr std::string_view name = Name.view();
    static constexpr bool idempotent = Idempotent;
    std::string_view key;
    std::array<std::string_view, More> rest;  ///< the arguments after the key (member, field, value)
    template <class... Rest>
        requires(sizeof...(Rest) == More && (std::convertible_to<Rest, std::string_view> && ...))
    explicit key_command(std::string_view k, const Rest&... after) noexcept : key(k), rest{std::string_view(after)...} {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return [&]<std::size_t... I>(std::index_sequence<I...>) -> decltype(auto) {
            return pass_args(f, name, key, rest[I]...);
        }(std::make_index_sequence<More>{});
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const { return Read(where, name, r); }
};

/// GET key: the value's bytes, or nullopt when missing.
using get = key_command<"GET", true, bulk_or_nil>;
/// GET key read as a counter (integer_or_zero).
using get_integer = key_command<"GET", true, integer_or_zero>;
/// UNLINK key: whether it existed.
using unlink = key_command<"UNLINK", true, flag>;
/// EXISTS key: whether it exists.
using exists = key_command<"EXISTS", true, flag>;
/// SADD key member: whether it was added.
using sadd = key_command<"SADD", true, flag, 1>;
/// SREM key member: whether it was there.
using srem = key_command<"SREM", true, flag, 1>;
/// SISMEMBER key member: whether it is there.
using sismember = key_command<"SISMEMBER", true, flag, 1>;
/// HDEL key field: whether it was there.
using hdel = key_command<"HDEL", true, flag, 1>;
/// HSET key field value: whether the field is new.
using hset = key_command<"HSET", true, flag, 2>;
/// HGET key field: the field's bytes, or nullopt.
using hget = key_command<"HGET", true, bulk_or_nil, 1>;

/// GETDEL key: the value's bytes (now deleted), or nullopt when missing. On a
/// server older than Redis 6.2 ("unknown command": nothing ran) the fallback is
/// the GET + DEL script (EVAL take_fallback); `old_server`, when given, remembers
/// that, so later takes send the script at once.
struct take : command_base<take> {
    using result_type = std::optional<std::string_view>;
    static constexpr std::string_view name = "GETDEL";
    static constexpr bool idempotent = false;
    std::string_view key;
    std::atomic<bool>* old_server;
    explicit take(std::string_view k, std::atomic<bool>* remember = nullptr) noexcept : key(k), old_server(remember) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        if (old_server != nullptr && old_server->load(std::memory_order_relaxed)) [[unlikely]]
            return with_fallback_args(f);
        return pass_args(f, name, key);
    }
    [[nodiscard]] bool fallback_on(reply_view r) const noexcept {
        if (!r.is_error() || !is_unknown_command(r.text())) [[likely]]
            return false;
        if (old_server != nullptr) old_server->store(true, std::memory_order_relaxed);
        return true;
    }
    template <class F>
    decltype(auto) with_fallback_args(F&& f) const {
        return pass_args(f, std::string_view("EVAL"), take_fallback.text, std::string_view("1"), key);
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        return bulk_or_nil(where, name, r);
    }
};
/// GETDEL under its command's name.
using getdel = take;

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
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (r.type() != REDIS_REPLY_STATUS) [[unlikely]]
            unexpected(where, name, r);
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
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_integer()) [[unlikely]]
            unexpected(where, name, r);
        return r.integer();
    }
};

/// N in decimal, as a constant string (a script's key count).
template <std::size_t N>
struct decimal_constant {
    static constexpr auto digits = [] {
        std::array<char, 20> out{};
        std::size_t size = 0;
        for (std::size_t n = N;; n /= 10) {
            out[size++] = static_cast<char>('0' + n % 10);
            if (n < 10) break;
        }
        for (std::size_t i = 0; i < size / 2; ++i) std::swap(out[i], out[size - 1 - i]);
        return std::pair{out, size};
    }();
    static constexpr std::string_view text{digits.first.data(), digits.second};
};

/// A Lua script, run by EVALSHA with EVAL as the fallback on NOSCRIPT (a
/// restart or SCRIPT FLUSH forgot it; EVAL loads it again). The one script
/// runner, for the store's scripts and the queue's. Derived gives:
///   - `code`: the script;
///   - its KEYS: `key` (one key), or `keys`, a pointer to several (a type with
///     a constant `count` and `operator[]`, as the queue's queue_keys);
///   - its ARGV: with_script_args(g), which calls g with them as string_views,
///     or, when their number is known only at run time, with_script_argv(g),
///     which calls g with a span of them (the request is then built on the heap).
template <class Derived>
struct script_command : command_base<Derived> {
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return request(f, std::string_view("EVALSHA"), Derived::code.sha_view());
    }
    /// NOSCRIPT: the script never ran, so EVAL may take its place.
    [[nodiscard]] bool fallback_on(reply_view r) const noexcept { return r.is_error() && is_noscript(r.text()); }
    template <class F>
    decltype(auto) with_fallback_args(F&& f) const {
        return request(f, std::string_view("EVAL"), Derived::code.text);
    }

private:
    /// The script's KEYS, in order.
    [[nodiscard]] auto script_keys() const noexcept {
        const auto& self = static_cast<const Derived&>(*this);
        if constexpr (requires { *self.keys; }) {
            const auto& keys = *self.keys;
            constexpr std::size_t count = std::remove_cvref_t<decltype(keys)>::count;
            return [&]<std::size_t... I>(std::index_sequence<I...>) {
                return std::array<std::string_view, count>{std::string_view(keys[I])...};
            }(std::make_index_sequence<count>{});
        } else {
            return std::array<std::string_view, 1>{std::string_view(self.key)};
        }
    }

    /// VERB BODY numkeys KEYS... ARGV...
    template <class F>
    decltype(auto) request(F& f, std::string_view verb, std::string_view body) const {
        const auto& self = static_cast<const Derived&>(*this);
        const auto keys = script_keys();
        constexpr std::size_t count = std::tuple_size_v<decltype(keys)>;
        constexpr std::string_view count_text = decimal_constant<count>::text;
        if constexpr (requires { self.with_script_argv([](std::span<const std::string_view>) {}); }) {
            return self.with_script_argv([&](std::span<const std::string_view> argv) {
                std::vector<const char*> pointers;
                std::vector<std::size_t> lengths;
                pointers.reserve(3 + count + argv.size());
                lengths.reserve(3 + count + argv.size());
                const auto add = [&](std::string_view v) {
                    pointers.push_back(v.data());
                    lengths.push_back(v.size());
                };
                add(verb);
                add(body);
                add(count_text);
                for (const std::string_view key : keys) add(key);
                for (const std::string_view arg : argv) add(arg);
                return f(pointers.size(), pointers.data(), lengths.data());
            });
        } else {
            return self.with_script_args([&](const auto&... argv) {
                return [&]<std::size_t... I>(std::index_sequence<I...>) -> decltype(auto) {
                    return pass_args(f, verb, body, count_text, keys[I]..., std::string_view(argv)...);
                }(std::make_index_sequence<count>{});
            });
        }
    }
};

/// A counter increment, with or without an expiry: INCRBY, or with an expiry
/// MULTI / INCRBY / PEXPIRE / EXEC in one write (one key, so one slot; four
/// replies). The one increment-with-expiry: what store.increment and ops::incr
/// send. A transaction, not a script: Lua would cost the server several times
/// the commands (throughput 0.68 of MULTI/EXEC on one connection), and hold
/// the answer as a double, inexact beyond 2^53. Not idempotent.
struct increment : command_base<increment> {
    using result_type = std::int64_t;
    static constexpr std::string_view name = "INCRBY";
    static constexpr bool idempotent = false;
    std::string_view key;
    std::int64_t amount;
    std::int64_t expiry_ms;  ///< 0: no expiry
    increment(std::string_view k, std::int64_t by, std::int64_t expiry = 0) noexcept
        : key(k), amount(by), expiry_ms(expiry) {}
    /// How many replies the request gets: 1, or 4 with an expiry.
    [[nodiscard]] std::size_t replies() const noexcept { return expiry_ms > 0 ? 4 : 1; }
    /// The request of one reply (INCRBY); with an expiry, see write().
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return incr_by(key, amount).with_args(f);
    }
    /// Appends the whole request: INCRBY, or the transaction with an expiry.
    void write(std::string& out) const {
        const auto append = [&](std::size_t argc, const char* const* argv, const std::size_t* lengths) {
            append_request(out, argc, argv, lengths);
        };
        if (expiry_ms <= 0) {
            incr_by(key, amount).with_args(append);
            return;
        }
        const ::hotstate::redis::int_arg ms(expiry_ms);
        pass_args(append, std::string_view("MULTI"));
        incr_by(key, amount).with_args(append);
        pass_args(append, std::string_view("PEXPIRE"), key, ms.view());
        pass_args(append, std::string_view("EXEC"));
    }
    /// INCRBY's integer, or EXEC's [new value, 1|0]. An error queued in the
    /// transaction (MOVED, WRONGTYPE...) is the reply the runner hands here.
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (r.is_integer()) [[likely]]
            return r.integer();
        if (r.is_array() && r.size() == 2) {
            const reply_view incremented = r[0];
            if (incremented.is_integer()) return incremented.integer();
            if (incremented.is_error()) throw server_error(where.address, name, incremented.text());
        }
        unexpected(where, name, r);
    }
};

/// A command whose request gets more than one reply (see increment).
template <class C>
concept MultiReply = Command<C> && requires(const C& command) {
    { command.replies() } -> std::same_as<std::size_t>;
};

/// One GCRA step (the gcra_check script) at `now_us` by the client's Clock. Not idempotent.
struct gcra : script_command<gcra> {
    using result_type = rate_decision;
    static constexpr const script& code = gcra_check;
    static constexpr std::string_view name = code.name;
    static constexpr bool idempotent = false;
    /// Extra TTL of a GCRA key beyond its schedule, in ms (see detail::redis::gcra_check);
    /// a literal argument, so no operation formats it.
    static constexpr std::string_view ttl_slack_ms = "1000";
    std::string_view key;
    std::int64_t now_us, emission_us, capacity_us, cost;
    gcra(std::string_view k, std::int64_t now, std::int64_t emission, std::int64_t capacity, std::int64_t n) noexcept
        : key(k), now_us(now), emission_us(emission), capacity_us(capacity), cost(n) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        using ::hotstate::redis::int_arg;
        const int_arg now(now_us), emission(emission_us), capacity(capacity_us), n(cost);
        return g(now.view(), emission.view(), capacity.view(), n.view(), ttl_slack_ms);
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_array() || r.size() != 3 || !r[0].is_integer() || !r[1].is_integer() || !r[2].is_integer())
            [[unlikely]]
            unexpected(where, name, r);
        return rate_decision{r[0].integer() != 0, std::chrono::milliseconds{r[1].integer()}, r[2].integer()};
    }
};

/// Lock acquire (the lock_acquire script): the fencing token, or nullopt while
/// another owner's lease is live. Idempotent in effect (see scripts.hpp).
/// `retention` is not sent: the fence lives as long as the hash (scripts.hpp);
/// the parameter stays for callers written against the earlier layout.
struct lock_acquire : script_command<lock_acquire> {
    using result_type = std::optional<std::uint64_t>;
    static constexpr const script& code = redis::lock_acquire;
    static constexpr std::string_view name = code.name;
    static constexpr bool idempotent = true;
    std::string_view key, owner;
    std::int64_t lease_ms, retention_ms;
    lock_acquire(std::string_view k, std::string_view who, std::int64_t lease, std::int64_t retention) noexcept
        : key(k), owner(who), lease_ms(lease), retention_ms(retention) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        const ::hotstate::redis::int_arg lease(lease_ms);
        return g(owner, lease.view());
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (r.is_nil()) return std::nullopt;
        if (!r.is_string()) [[unlikely]]
            unexpected(where, name, r);
        const auto fence = parse_decimal<std::uint64_t>(r.text());
        if (!fence) [[unlikely]]
            throw error(errc::decode, context(where.address, name) + "malformed fencing token");
        return *fence;
    }
};

/// Owner-checked release: HDEL key <owner token>, no script (see scripts.hpp):
/// whether `owner` held a live lease. Idempotent in effect; a send after one
/// that may have run -- its reply lost, in this exchange or (`sent_before`) in
/// an earlier one whose outcome stayed unknown -- is the lock_release_again
/// script, which still answers 1 when that one ran: it needs the owner's
/// fence, which the HDEL does not send.
struct lock_release : command_base<lock_release> {
    using result_type = bool;
    static constexpr std::string_view name = "release";
    static constexpr bool idempotent = true;
    std::string_view key, owner;
    std::uint64_t fence;
    bool sent_before;
    lock_release(std::string_view k, std::string_view who, std::uint64_t owner_fence, bool earlier_may_have_run = false) noexcept
        : key(k), owner(who), fence(owner_fence), sent_before(earlier_may_have_run) {}
    /// The command of a send after the first (see HasResend; defined below lock_release_again).
    [[nodiscard]] auto resend() const noexcept;
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, std::string_view("HDEL"), key, owner);
    }
    /// WRONGTYPE (the key is no lock: overwritten by another kind) is "not
    /// yours", as for extend; every other error reply throws.
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (r.is_error() && r.text().starts_with("WRONGTYPE")) [[unlikely]]
            return false;
        return flag(where, name, r);
    }
};

/// An owner-checked lock script answering 1 or 0, sent with the owner token
/// and one number: an extend's lease, a re-sent release's fence.
template <const script& Code>
struct lock_check : script_command<lock_check<Code>> {
    using result_type = bool;
    static constexpr const script& code = Code;
    static constexpr std::string_view name = Code.name;
    static constexpr bool idempotent = true;
    std::string_view key, owner;
    std::uint64_t number;
    lock_check(std::string_view k, std::string_view who, std::uint64_t n) noexcept : key(k), owner(who), number(n) {}
    template <class G>
    decltype(auto) with_script_args(G&& g) const {
        const ::hotstate::redis::int_arg text(number);
        return g(owner, text.view());
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_integer()) [[unlikely]]
            unexpected(where, name, r);
        return r.integer() == 1;
    }
};
/// Owner-checked extend (the lock_extend script): whether the lease was renewed.
struct lock_extend : lock_check<redis::lock_extend> {
    /// `retention` is not sent (see lock_acquire).
    lock_extend(std::string_view k, std::string_view who, std::int64_t lease_ms, std::int64_t /*retention*/) noexcept
        : lock_check(k, who, static_cast<std::uint64_t>(lease_ms)) {}
};
/// A release sent again after one that may have run (the lock_release_again
/// script; lock_release's resend form): 1 when `owner` held a live lease, or
/// when its own earlier release ran. ARGV: the owner token and its fence.
using lock_release_again = lock_check<redis::lock_release_again>;

inline auto lock_release::resend() const noexcept { return lock_release_again(key, owner, fence); }

/// A command whose sends after the first (its reply lost with the connection)
/// must be a different command that still gives the first send's answer: a
/// script, so a client without the script runner can send its EVAL form.
/// Every runner that sends a request again asks the command for it here.
template <class C>
concept HasResend = Command<C> && requires(const C& command) {
    { command.resend() } -> HasFallback;
    { command.sent_before } -> std::convertible_to<bool>;  ///< an earlier exchange's send may have run
};

/// A command whose answer is a status (+OK, +PONG): PING, ASKING, SCRIPT LOAD's cousins.
template <::hotstate::fixed_string Name>
struct status_command : command_base<status_command<Name>> {
    using result_type = bool;
    static constexpr std::string_view name = Name.view();
    static constexpr bool idempotent = true;
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name);
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_status()) [[unlikely]]
            unexpected(where, name, r);
        return true;
    }
};
/// PING: true (PONG); an error reply (NOAUTH, LOADING) throws.
using ping = status_command<"PING">;
/// ASKING: the next command may run on a slot being imported.
using asking = status_command<"ASKING">;
/// READONLY: a cluster replica serves reads of its master's slots (harmless on a master).
using readonly = status_command<"READONLY">;

/// ROLE: whether the server is a master now (a sentinel may still name one
/// that was just demoted).
struct role : command_base<role> {
    using result_type = bool;
    static constexpr std::string_view name = "ROLE";
    static constexpr bool idempotent = true;
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name);
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_array() || r.size() == 0 || !r[0].is_string()) [[unlikely]]
            unexpected(where, name, r);
        return r[0].text() == "master";
    }
};

/// SENTINEL get-master-addr-by-name service: the master the sentinel names,
/// nullopt when it does not know the service (nil) or answers malformed.
struct sentinel_master : command_base<sentinel_master> {
    using result_type = std::optional<routing::node_address>;
    static constexpr std::string_view name = "SENTINEL get-master-addr-by-name";
    static constexpr bool idempotent = true;
    std::string_view service;
    explicit sentinel_master(std::string_view of) noexcept : service(of) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, std::string_view("SENTINEL"), std::string_view("get-master-addr-by-name"), service);
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (r.is_error()) [[unlikely]]
            unexpected(where, name, r);
        if (!r.is_array() || r.size() != 2 || !r[0].is_string() || r[0].text().empty() || !r[1].is_string())
            return std::nullopt;
        const auto port = detail::parse_decimal<std::uint16_t>(r[1].text());
        if (!port || *port == 0) return std::nullopt;
        return routing::node_address{std::string(r[0].text()), *port};
    }
};

/// SCRIPT LOAD of one script, so EVALSHA finds it on a node it never used before.
struct script_load : command_base<script_load> {
    using result_type = bool;
    static constexpr std::string_view name = "SCRIPT LOAD";
    static constexpr bool idempotent = true;
    const script* code;
    explicit script_load(const script& s) noexcept : code(&s) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, std::string_view("SCRIPT"), std::string_view("LOAD"), code->text);
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_string()) [[unlikely]]
            unexpected(where, name, r);
        return true;
    }
};

/// One SCAN page: the next cursor ("0" at the end) and the keys, in place.
struct scan_page {
    std::string_view cursor;
    reply_view keys;  ///< an array of bulk strings
};

/// SCAN cursor MATCH pattern COUNT 1000.
struct scan : command_base<scan> {
    using result_type = scan_page;
    static constexpr std::string_view name = "SCAN";
    static constexpr bool idempotent = true;
    std::string_view cursor, pattern;
    scan(std::string_view from, std::string_view match) noexcept : cursor(from), pattern(match) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, name, cursor, std::string_view("MATCH"), pattern, std::string_view("COUNT"),
                         std::string_view("1000"));
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_array() || r.size() != 2 || !r[0].is_string() || !r[1].is_array()) [[unlikely]]
            unexpected(where, name, r);
        for (std::size_t i = 0; i < r[1].size(); ++i)
            if (!r[1][i].is_string()) [[unlikely]]
                unexpected(where, name, r[1][i]);
        return {r[0].text(), r[1]};
    }
};

/// UNLINK of a SCAN page's keys (one server): how many existed.
struct unlink_keys : command_base<unlink_keys> {
    using result_type = std::int64_t;
    static constexpr std::string_view name = "UNLINK";
    static constexpr bool idempotent = true;
    reply_view keys;  ///< an array of bulk strings (a scan_page's keys), at least one
    explicit unlink_keys(reply_view of) noexcept : keys(of) {}
    template <class F>
    decltype(auto) with_args(F&& f) const {
        const std::size_t argc = keys.size() + 1;
        std::vector<const char*> argv(argc);
        std::vector<std::size_t> lengths(argc);
        argv[0] = name.data();
        lengths[0] = name.size();
        for (std::size_t i = 1; i < argc; ++i) {
            argv[i] = keys[i - 1].text().data();
            lengths[i] = keys[i - 1].text().size();
        }
        return f(argc, argv.data(), lengths.data());
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        if (!r.is_integer()) [[unlikely]]
            unexpected(where, name, r);
        return r.integer();
    }
};

/// CLUSTER SLOTS: the slot ranges (slots_reply.hpp's parse); a reply of
/// another shape is errc::server. Nodes announced without an endpoint are
/// reached at the host that answered.
struct cluster_slots : command_base<cluster_slots> {
    using result_type = std::vector<routing::slot_range>;
    static constexpr std::string_view name = "CLUSTER SLOTS";
    static constexpr bool idempotent = true;
    template <class F>
    decltype(auto) with_args(F&& f) const {
        return pass_args(f, std::string_view("CLUSTER"), std::string_view("SLOTS"));
    }
    [[nodiscard]] result_type interpret(reply_view r, reply_context where) const {
        auto ranges = r.is_error() ? std::nullopt : routing::parse_cluster_slots(r, host_of(where.address));
        if (!ranges) [[unlikely]] {
            if (r.is_error()) unexpected(where, name, r);
            throw error(errc::server, context(where.address, name) + "not a cluster reply");
        }
        return std::move(*ranges);
    }
};

static_assert(Command<get> && Command<take> && Command<set> && Command<incr_by> && Command<unlink> &&
              Command<exists> && Command<sadd> && Command<srem> && Command<sismember> && Command<hdel> &&
              Command<hset> && Command<hget> && Command<get_integer> && Command<increment> && Command<gcra> &&
              Command<lock_acquire> && Command<lock_release> && Command<lock_release_again> && Command<lock_extend> && Command<ping> &&
              Command<asking> && Command<readonly> && Command<role> && Command<sentinel_master> && Command<script_load> && Command<scan> && Command<unlink_keys> && Command<cluster_slots>);
static_assert(MultiReply<increment> && !MultiReply<get> && HasFallback<take> && !HasFallback<increment> && HasFallback<gcra> && HasFallback<lock_acquire> &&
              !HasFallback<lock_release> && HasResend<lock_release> && HasFallback<lock_release_again> && HasFallback<lock_extend> && !HasFallback<get>);

}  // namespace hotstate::detail::redis::commands
