// hotstate/backends/memcached.hpp: the memcached backend (memcached >= 1.6,
// the meta protocol), over the engine's streams and pool.
//
//   hotstate::store<hotstate::backends::memcached, my_category> s(
//       hotstate::backends::memcached_config{.urls = {"memcached://10.0.0.5:11211"}});
//
// Each operation is one meta command, or a read with CAS then a write with
// that CAS where memcached has no single command for it:
//   kv_set/get/del/exists   ms [T] / mg v / md / mg
//   kv_take                 mg v c, then md C<cas>: of two takers one deletes, the other finds NF
//   counter_incr            ma N<ttl> J<by> D<by> [T<ttl>] (created on a miss); a negative
//                           step or value (ma is unsigned) reads with CAS and writes with it
//   counter_get             mg v (missing reads as 0)
//   gcra_check              mg v c, rate_math::gcra_step here, ms C<cas> (or add mode): retried on a race
//   lock_acquire/extend     mg v c, then ms C<cas> (or add mode) of the record "L<fence> <until> <owner>"
//   lock_release            the same, the record kept with no owner so that fences keep growing
//   set_* / map_*           one item per member: ms add mode / md / mg
// What memcached cannot do is not offered, so calling it through a store is a
// compile error naming the capability: delete by prefix (erase_all:
// memcached cannot list keys), pipelines, job queues, the coordinator's
// transports.
//
// Keys: printable ASCII keys go as they are; others base64-encoded with the
// meta `b` flag, at most 186 bytes of them (proto/meta.hpp); a longer key is
// errc::invalid_argument, never truncated. A lookup's member is an item of
// its own, keyed `lookup key ++ member ++ byte(size of lookup key) ++ 's' or
// 'm'` (read from the end, the parts are unambiguous): a lookup's key is not
// an item, so key/value operations on it neither see nor disturb it (Redis
// and the embedded backend answer wrong_type there). Give lookups a category
// of their own.
//
// Semantics are backends::memory's (the differential law checks it), except:
//   - memcached expires items by its own clock in whole seconds: a TTL is
//     rounded up to a second; the Clock policy drives rate windows, GCRA and
//     lock leases (a lock's item outlives its lease by fence_retention);
//   - memcached may evict any item under memory pressure (unless started with
//     -M): a lost lock record makes the next fence come from the clock again,
//     still larger than the last for a clock that does not go back;
//   - a lock record carries client flags 1: key/value reads of it are
//     wrong_type, as in the embedded backend;
//   - a value above the server's item size limit (-I, 1 MiB by default) is
//     refused by the server: errc::invalid_argument saying so.
//
// At most once: every command value says whether it may be sent again after
// its request may have reached the server (the pool's rule): reads, plain
// sets and deletes, and the CAS writes of an acquire or extend (whose loop
// reads the outcome again) are; ma, a take's md, a release and the CAS
// writes of counters and GCRA are not, and fail with outcome_unknown().
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hotstate/backend.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/memcached/io/connection.hpp>
#include <hotstate/detail/memcached/proto/meta.hpp>
#include <hotstate/detail/redis/proto/url_text.hpp>
#include <hotstate/error.hpp>
#include <hotstate/rate_limit.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/tls.hpp>
#include <hotstate/redis/pool.hpp>

namespace hotstate::backends {

/// Settings of one memcached server.
struct memcached_config {
    /// The servers: `memcached://host[:port]` (port 11211 by default),
    /// `memcacheds://` for TLS (a server built with TLS and started with -Z),
    /// `unix:///path`. With several, each key lives on the server
    /// xxh3_64(key) % n names, as sharded<> places keys (one pool per server).
    std::vector<std::string> urls{"memcached://127.0.0.1:11211"};
    /// Bound on each request's round trip and on connecting.
    std::chrono::milliseconds timeout{std::chrono::seconds{5}};
    /// At most this many connections.
    std::size_t pool_max_connections = 10;
    /// How long an operation waits for a free connection.
    std::chrono::milliseconds pool_timeout_wait{std::chrono::seconds{30}};
    /// A connection idle longer than this answers mn before reuse.
    std::chrono::milliseconds pool_timeout_recycle{std::chrono::seconds{30}};
    /// SO_KEEPALIVE on TCP connections.
    bool tcp_keepalive = true;
    /// How long a lock's record (its fence) outlives its lease.
    std::chrono::milliseconds fence_retention{std::chrono::minutes{10}};
    /// TLS (the engine's streams): `memcacheds://` turns it on; the CA, a client
    /// certificate and the server name as for Redis (hotstate/tls.hpp).
    tls_options tls{};
};

/// The endpoint of a memcached URL; errc::configuration naming what is wrong.
[[nodiscard]] inline ::hotstate::redis::endpoint parse_memcached_url(std::string_view url) {
    namespace url_text = detail::redis::url_text;
    const auto fail = [url](std::string_view why) {
        return url_text::config_error("memcached URL '" + url_text::quote(url) + "': " + std::string(why));
    };
    const url_text::url_parts parts = url_text::split_url(url);
    if (!parts.scheme) throw fail("missing scheme (expected memcached://, memcacheds:// or unix://)");
    if (parts.userinfo) throw fail("memcached has no login: remove the user and password");
    ::hotstate::redis::endpoint where;
    where.port = 11211;
    if (url_text::is_socket_scheme(*parts.scheme)) {
        if (!parts.rest.starts_with('/')) throw fail("socket path must be absolute (unix:///path/to.sock)");
        if (url_text::has_nul(parts.rest)) throw fail("socket path contains a NUL byte");
        if (parts.rest.size() > url_text::socket_path_limit) throw fail("socket path is too long");
        where.type = ::hotstate::redis::endpoint::kind::unix_socket;
        where.path = std::string(parts.rest);
        return where;
    }
    if (*parts.scheme != "memcached" && *parts.scheme != "memcacheds")
        throw fail("unsupported scheme '" + url_text::quote(*parts.scheme) +
                   "' (expected memcached://, memcacheds:// or unix://)");
    where.tls.enabled = *parts.scheme == "memcacheds";
    std::string_view authority = parts.rest;
    if (authority.ends_with('/')) authority.remove_suffix(1);
    if (authority.find_first_of("/?#") != std::string_view::npos) throw fail("memcached URLs have no path or query");
    const bool bracketed = authority.starts_with('[');
    const auto colon = authority.rfind(':');
    const bool has_port = colon != std::string_view::npos && (!bracketed || authority[colon - 1] == ']');
    if (has_port && !(bracketed ? true : authority.find(':') == colon)) throw fail("put an IPv6 host in brackets");
    if (has_port) {
        const auto parsed = detail::parse_host_port(authority);
        if (!parsed) throw fail("the port must be 1..65535");
        where.host = std::string(parsed->host);
        where.port = parsed->port;
    } else {
        where.host = std::string(bracketed && authority.ends_with(']') ? authority.substr(1, authority.size() - 2)
                                                                        : authority);
    }
    if (where.host.empty()) throw fail("empty host");
    return where;
}

/// The endpoint of server `url` of `config`: the URL's, with the config's TLS
/// files (TLS on when the URL or `tls.enabled` says so).
[[nodiscard]] inline ::hotstate::redis::endpoint memcached_endpoint(const memcached_config& config,
                                                                    std::string_view url) {
    auto where = parse_memcached_url(url);
    const bool from_url = where.tls.enabled;
    where.tls = config.tls;
    where.tls.enabled = from_url || config.tls.enabled;
    return where;
}

/// The memcached backend with clock policy `C` (see the banner).
/// @tparam C a Clock; drives rate-limit windows, GCRA and lock leases (memcached keeps TTLs)
template <Clock C = system_clock>
class basic_memcached {
public:
    /// What it is built from (also what sharded<basic_memcached<C>> takes per shard).
    using config_type = memcached_config;
    /// The Clock policy.
    using clock_type = C;
    /// The pool: the engine's, handing out memcached connections.
    using pool_type = ::hotstate::redis::basic_pool<detail::redis::any_stream, detail::memcached::connection>;

    /// Connects lazily: nothing is opened until the first operation. A bad URL
    /// or TLS file is errc::configuration here.
    explicit basic_memcached(const memcached_config& config = {}, C clock = C())
        : config_(config), clock_(std::move(clock)) {
        if (config.urls.empty()) throw error(errc::configuration, "memcached: at least one server URL is needed");
        if (config.timeout.count() <= 0) throw error(errc::configuration, "memcached: timeout must be positive");
        for (const auto& url : config.urls)
            pools_.push_back(std::make_unique<pool_type>(memcached_endpoint(config, url), pool_options_of(config)));
    }

    basic_memcached(const basic_memcached&) = delete;
    basic_memcached& operator=(const basic_memcached&) = delete;

    [[nodiscard]] time_point now() const { return clock_.now(); }
    /// The settings it was built from.
    [[nodiscard]] const memcached_config& config() const noexcept { return config_; }
    /// The pool of server `index` (in the order of urls), for tests and tools.
    [[nodiscard]] pool_type& pool(std::size_t index = 0) { return *pools_.at(index); }
    /// The number of servers.
    [[nodiscard]] std::size_t server_count() const noexcept { return pools_.size(); }
    /// The server (index into urls) `encoded_key` lives on.
    [[nodiscard]] std::size_t server_of(std::string_view encoded_key) const noexcept {
        return pools_.size() == 1 ? 0 : shard_of(encoded_key, pools_.size());
    }

    // ---- KeyValueBackend ----------------------------------------------------

    void kv_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "set");
        run_idempotent(pool, set_cmd{k, value, ttl_token(ttl)});
    }

    template <class Sink>
    bool kv_get(std::string_view key, Sink&& sink) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "get");
        return pool.run(::hotstate::redis::idempotent, [&](connection& c) {
            const auto found = c.execute(get_cmd{k, true, true});
            if (!found) return false;
            if (found->client_flags == lock_flags) throw wrong_type("get");
            sink(found->value);
            return true;
        });
    }

    bool kv_del(std::string_view key) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "erase");
        return run_idempotent(pool, remove_cmd{k}) == detail::memcached::proto::deleted::yes;
    }

    bool kv_exists(std::string_view key) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "exists");
        return run_idempotent(pool, get_cmd{k, false}).has_value();
    }

    /// Reads with CAS, then deletes with that CAS: of concurrent takes one
    /// deletes, the others find it gone (NF). A value replaced in between (EX)
    /// is read again. The delete is not sent twice: a lost reply is outcome_unknown().
    template <class Sink>
    bool kv_take(std::string_view key, Sink&& sink) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "take");
        std::string value;
        for (;;) {
            std::uint64_t cas = 0;
            const bool present = pool.run(::hotstate::redis::idempotent, [&](connection& c) {
                const auto found = c.execute(get_cmd{k, true, true, true});
                if (!found) return false;
                if (found->client_flags == lock_flags) throw wrong_type("take");
                value.assign(found->value);
                cas = found->cas;
                return true;
            });
            if (!present) return false;
            const auto outcome = pool.run(::hotstate::redis::once, [&](connection& c) {
                return c.execute(remove_cmd{k, cas});
            });
            if (outcome == detail::memcached::proto::deleted::yes) {
                sink(std::string_view(value));
                return true;
            }
            if (outcome == detail::memcached::proto::deleted::not_found) return false;  // another take won
        }
    }

    // ---- CounterBackend -----------------------------------------------------

    std::int64_t counter_incr(std::string_view key, std::int64_t by, std::chrono::milliseconds expiry) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "increment");
        if (by >= 0) {
            // one ma: created with `by` on a miss; memcached's numbers are unsigned,
            // so a value it cannot add to (negative, or not a number) goes the CAS way
            const std::int64_t ttl = ttl_token(expiry);
            std::optional<std::uint64_t> after;
            try {
                after = pool.run(::hotstate::redis::once, [&](connection& c) {
                    return c.execute(detail::memcached::proto::arithmetic{k, static_cast<std::uint64_t>(by), true, ttl, ttl});
                });
            } catch (const error& e) {
                if (e.kind() != errc::wrong_type) throw;
            }
            if (after) {
                if (*after <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(*after);
                undo_overflow(pool, k, static_cast<std::uint64_t>(by));
                throw overflow();
            }
        }
        return add_with_cas(pool, k, by, expiry);
    }

    std::int64_t counter_get(std::string_view key) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "counter");
        return pool.run(::hotstate::redis::idempotent, [&](connection& c) -> std::int64_t {
            const auto found = c.execute(get_cmd{k, true, true});
            if (!found) return 0;
            return number_of(*found, "counter");
        });
    }

    // ---- RateLimitBackend ---------------------------------------------------

    /// rate_math::gcra_step on the stored schedule (µs), written back with CAS
    /// (add mode when there was none); a race reads again.
    rate_decision gcra_check(std::string_view key, rate_math::gcra_parameters params, std::int64_t cost) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "check_rate");
        for (;;) {
            std::optional<std::int64_t> stored;
            std::uint64_t cas = 0;
            read_for_update(pool, k, [&](const item& found) {
                stored = number_of(found, "check_rate");
                cas = found.cas;
            });
            const std::int64_t now_ms = clock_.now().time_since_epoch().count();
            const auto outcome = rate_math::gcra_step(stored, now_ms * 1000, params, cost);
            if (!outcome.decision.allowed) return outcome.decision;
            char digits[24];
            const std::string_view text = decimal(outcome.new_tat_us, digits);
            const auto ttl = std::chrono::milliseconds{std::max<std::int64_t>(1, outcome.ttl.count())};
            if (write_once(pool, set_cmd{k, text, ttl_token(ttl), 0, stored ? store_mode::set : store_mode::add, cas}))
                return outcome.decision;
        }
    }

    // ---- LockBackend --------------------------------------------------------

    std::optional<std::uint64_t> lock_acquire(std::string_view key, std::string_view owner,
                                              std::chrono::milliseconds lease) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "try_lock");
        for (;;) {
            std::optional<lock_record> held;
            std::uint64_t cas = 0;
            read_for_update(pool, k, [&](const item& found) {
                held = lock_of(found, "try_lock");
                cas = found.cas;
            });
            const std::int64_t now = now_ms();
            std::uint64_t fence = 0;
            if (held && !held->owner.empty() && held->until_ms > now) {
                if (owner.empty() || held->owner != owner) return std::nullopt;
                fence = held->fence;  // the owner acquiring again (a resend): renewed, the same fence
            } else {
                fence = std::max(held ? held->fence + 1 : 1, static_cast<std::uint64_t>(now) * 1000);
            }
            // sent again after a lost reply, a write that ran answers EX or NS and
            // the loop reads the outcome: the holder's own acquire again
            if (write_lock(pool, k, lock_record{fence, now + lease.count(), std::string(owner)}, lease, cas,
                           held.has_value(), ::hotstate::redis::idempotent))
                return fence;
        }
    }

    /// The fence is not needed: a release is never sent twice (a lost reply is
    /// outcome_unknown()). Nor can a release after such a one tell that the
    /// failed one ran (memcached keeps no trace of a deleted owner): `attempt`
    /// after_unknown_outcome answers as a first release does, false once the
    /// lease is gone.
    bool lock_release(std::string_view key, std::string_view owner, std::uint64_t /*fence*/,
                      release_attempt /*attempt*/) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "unlock");
        for (;;) {
            std::optional<lock_record> held;
            std::uint64_t cas = 0;
            if (!read_owned(pool, k, owner, held, cas)) return false;
            // the record stays, without an owner, so that the next fence is larger
            if (write_lock(pool, k, lock_record{held->fence, 0, std::string()}, std::chrono::milliseconds{0}, cas, true,
                           ::hotstate::redis::once))
                return true;
        }
    }

    bool lock_extend(std::string_view key, std::string_view owner, std::chrono::milliseconds lease) {
        pool_type& pool = pool_for(key);
        const wire_key k(key, "extend");
        for (;;) {
            std::optional<lock_record> held;
            std::uint64_t cas = 0;
            if (!read_owned(pool, k, owner, held, cas)) return false;
            held->until_ms = now_ms() + lease.count();
            if (write_lock(pool, k, *held, lease, cas, true, ::hotstate::redis::idempotent)) return true;
        }
    }

    // ---- LookupBackend ------------------------------------------------------

    bool set_add(std::string_view key, std::string_view member) {
        pool_type& pool = pool_for(key);
        const member_key k(key, member, 's', "lookup_add");
        return run_idempotent(pool, set_cmd{k.wire, {}, 0, 0, store_mode::add}) == detail::memcached::proto::stored::yes;
    }
    bool set_remove(std::string_view key, std::string_view member) {
        pool_type& pool = pool_for(key);
        const member_key k(key, member, 's', "lookup_remove");
        return run_idempotent(pool, remove_cmd{k.wire}) == detail::memcached::proto::deleted::yes;
    }
    bool set_contains(std::string_view key, std::string_view member) {
        pool_type& pool = pool_for(key);
        const member_key k(key, member, 's', "lookup_contains");
        return run_idempotent(pool, get_cmd{k.wire, false}).has_value();
    }
    void map_set(std::string_view key, std::string_view field, std::string_view value) {
        pool_type& pool = pool_for(key);
        const member_key k(key, field, 'm', "lookup_set");
        run_idempotent(pool, set_cmd{k.wire, value});
    }
    template <class Sink>
    bool map_get(std::string_view key, std::string_view field, Sink&& sink) {
        pool_type& pool = pool_for(key);
        const member_key k(key, field, 'm', "lookup_get");
        return pool.run(::hotstate::redis::idempotent, [&](connection& c) {
            const auto found = c.execute(get_cmd{k.wire});
            if (!found) return false;
            sink(found->value);
            return true;
        });
    }
    bool map_remove(std::string_view key, std::string_view field) {
        pool_type& pool = pool_for(key);
        const member_key k(key, field, 'm', "lookup_erase");
        return run_idempotent(pool, remove_cmd{k.wire}) == detail::memcached::proto::deleted::yes;
    }

private:
    using connection = detail::memcached::connection;
    using wire_key = detail::memcached::proto::wire_key;
    using get_cmd = detail::memcached::proto::get;
    using set_cmd = detail::memcached::proto::set;
    using remove_cmd = detail::memcached::proto::remove;
    using item = get_cmd::item;
    using store_mode = detail::memcached::proto::store_mode;

    /// Client flags of a lock record: what tells it from a value.
    static constexpr std::uint32_t lock_flags = 1;

    struct lock_record {
        std::uint64_t fence = 0;
        std::int64_t until_ms = 0;
        std::string owner;
    };

    /// The item of one lookup member (see the banner).
    struct member_key {
        std::string bytes;
        wire_key wire;
        member_key(std::string_view key, std::string_view member, char kind, std::string_view operation)
            : bytes(compose(key, member, kind, operation)), wire(bytes, operation) {}
        static std::string compose(std::string_view key, std::string_view member, char kind,
                                   std::string_view operation) {
            if (key.size() > detail::memcached::proto::binary_key_limit)
                throw error(errc::invalid_argument, std::string(operation) + ": the lookup's key is too long");
            std::string out;
            out.reserve(key.size() + member.size() + 2);
            out.append(key).append(member);
            out.push_back(static_cast<char>(key.size()));
            out.push_back(kind);
            return out;
        }
    };

    static ::hotstate::redis::pool_options pool_options_of(const memcached_config& config) {
        ::hotstate::redis::pool_options options;
        options.max_connections = config.pool_max_connections;
        options.timeout_create = config.timeout;
        options.timeout_wait = config.pool_timeout_wait;
        options.timeout_recycle = config.pool_timeout_recycle;
        options.connect.connect_timeout = config.timeout;
        options.connect.command_timeout = config.timeout;
        options.connect.tcp_keepalive = config.tcp_keepalive;
        return options;
    }

    /// The pool of the server `key` lives on (a lookup's members: its key's).
    [[nodiscard]] pool_type& pool_for(std::string_view key) { return *pools_[server_of(key)]; }

    [[nodiscard]] std::int64_t now_ms() const { return clock_.now().time_since_epoch().count(); }

    /// memcached's T token for `ttl`, by the real clock memcached keeps.
    [[nodiscard]] static std::int64_t ttl_token(std::chrono::milliseconds ttl) {
        if (ttl.count() <= 0) return 0;
        const auto unix_now = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch());
        return detail::memcached::proto::ttl_token(ttl, unix_now.count());
    }

    template <class Command>
    typename Command::result_type run_idempotent(pool_type& pool, const Command& command) {
        return pool.run(::hotstate::redis::idempotent, [&](connection& c) { return c.execute(command); });
    }

    /// A write that must not be sent twice; true when stored (false: a race, read again).
    bool write_once(pool_type& pool, const set_cmd& command) {
        return pool.run(::hotstate::redis::once, [&](connection& c) { return c.execute(command); }) ==
               detail::memcached::proto::stored::yes;
    }

    /// mg v f c of `k`: calls `on_found` with a hit.
    template <class F>
    void read_for_update(pool_type& pool, const wire_key& k, F&& on_found) {
        pool.run(::hotstate::redis::idempotent, [&](connection& c) {
            const auto found = c.execute(get_cmd{k, true, true, true});
            if (found) on_found(*found);
            return 0;
        });
    }

    /// Whether `owner` holds a live lease on `k`; fills the record and its CAS.
    bool read_owned(pool_type& pool, const wire_key& k, std::string_view owner, std::optional<lock_record>& held, std::uint64_t& cas) {
        bool is_lock = false;
        read_for_update(pool, k, [&](const item& found) {
            if (found.client_flags != lock_flags) return;
            is_lock = true;
            held = parse_lock(found.value);
            cas = found.cas;
        });
        return is_lock && held && !held->owner.empty() && held->owner == owner && held->until_ms > now_ms();
    }

    /// Writes the record with CAS (add mode when there was none), its item
    /// kept for the lease and fence_retention; true when stored.
    template <class Effect>
    bool write_lock(pool_type& pool, const wire_key& k, const lock_record& record, std::chrono::milliseconds lease, std::uint64_t cas,
                    bool existed, Effect effect) {
        char digits[2][24];
        std::string text;
        text.reserve(48 + record.owner.size());
        // "L" first: memcached's ma reads a leading number followed by a space as
        // a number, and would count on (and so destroy) a record starting with one
        text.append("L")
            .append(decimal(static_cast<std::int64_t>(record.fence), digits[0]))
            .append(" ")
            .append(decimal(record.until_ms, digits[1]))
            .append(" ")
            .append(record.owner);
        const set_cmd command{k, text, ttl_token(lease + config_.fence_retention), lock_flags,
                              existed ? store_mode::set : store_mode::add, existed ? cas : 0};
        return pool.run(effect, [&](connection& c) { return c.execute(command); }) == detail::memcached::proto::stored::yes;
    }

    static std::optional<lock_record> parse_lock(std::string_view text) {
        if (!text.starts_with('L')) return std::nullopt;
        text.remove_prefix(1);
        const auto first = text.find(' ');
        const auto second = first == std::string_view::npos ? first : text.find(' ', first + 1);
        if (second == std::string_view::npos) return std::nullopt;
        const auto fence = detail::parse_decimal<std::uint64_t>(text.substr(0, first));
        const auto until = detail::parse_decimal<std::int64_t>(text.substr(first + 1, second - first - 1));
        if (!fence || !until) return std::nullopt;
        return lock_record{*fence, *until, std::string(text.substr(second + 1))};
    }

    static lock_record lock_of(const item& found, std::string_view operation) {
        if (found.client_flags != lock_flags) throw wrong_type(operation);
        auto record = parse_lock(found.value);
        if (!record) throw error(errc::decode, std::string(operation) + ": the lock's record is not hotstate's");
        return *record;
    }

    /// The counter in `found`: a decimal number (memcached pads a shrunk one with spaces).
    static std::int64_t number_of(const item& found, std::string_view operation) {
        if (found.client_flags == lock_flags) throw wrong_type(operation);
        std::string_view text = found.value;
        while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
        const auto parsed = detail::parse_decimal<std::int64_t>(text);
        if (!parsed) throw error(errc::wrong_type, std::string(operation) + ": the value is not an integer");
        return *parsed;
    }

    /// Takes back an increment of `by` that went past int64 (exact: both terms
    /// were at most INT64_MAX, so memcached's unsigned sum did not wrap). Written
    /// with CAS rather than ma's decrement, which would pad the shorter number
    /// with spaces in place.
    void undo_overflow(pool_type& pool, const wire_key& k, std::uint64_t by) {
        for (;;) {
            std::uint64_t value = 0;
            std::uint64_t cas = 0;
            std::int64_t ttl_left = -1;
            bool found = false;
            pool.run(::hotstate::redis::idempotent, [&](connection& c) {
                const auto got = c.execute(get_cmd{k, true, true, true, true});
                if (!got) return 0;
                std::string_view text = got->value;
                while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
                const auto parsed = detail::parse_decimal<std::uint64_t>(text);
                if (!parsed || *parsed < by) return 0;  // changed by someone else since: leave it
                found = true;
                value = *parsed - by;
                cas = got->cas;
                ttl_left = got->ttl_s;
                return 0;
            });
            if (!found) return;
            char digits[24];
            if (write_once(pool, set_cmd{k, decimal(static_cast<std::int64_t>(value), digits), ttl_left > 0 ? ttl_left : 0,
                                   0, store_mode::set, cas}))
                return;
        }
    }

    /// A step memcached's unsigned ma cannot take: read with CAS, add here, write with CAS.
    std::int64_t add_with_cas(pool_type& pool, const wire_key& k, std::int64_t by, std::chrono::milliseconds expiry) {
        for (;;) {
            std::optional<item> found;
            std::int64_t current = 0;
            std::uint64_t cas = 0;
            std::int64_t ttl_left = -1;
            pool.run(::hotstate::redis::idempotent, [&](connection& c) {
                const auto got = c.execute(get_cmd{k, true, true, true, true});
                if (got) {
                    current = number_of(*got, "increment");
                    cas = got->cas;
                    ttl_left = got->ttl_s;
                    found = got;
                }
                return 0;
            });
            std::int64_t result = 0;
            if (__builtin_add_overflow(current, by, &result)) throw overflow();
            char digits[24];
            // no new expiry keeps the one it had (to the second)
            const std::int64_t ttl = expiry.count() > 0 ? ttl_token(expiry) : (found && ttl_left > 0 ? ttl_left : 0);
            if (write_once(pool, set_cmd{k, decimal(result, digits), ttl, 0, found ? store_mode::set : store_mode::add, cas}))
                return result;
        }
    }

    static std::string_view decimal(std::int64_t value, char (&buffer)[24]) {
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
        return {buffer, static_cast<std::size_t>(end - buffer)};
    }

    static error wrong_type(std::string_view operation) {
        return error(errc::wrong_type, std::string(operation) + ": the key holds a value of another kind (a lock)");
    }
    static error overflow() { return error(errc::invalid_argument, "increment would overflow a 64-bit counter"); }

    memcached_config config_;
    C clock_;
    std::vector<std::unique_ptr<pool_type>> pools_;
};

/// The memcached backend on the system clock.
using memcached = basic_memcached<>;

static_assert(KeyValueBackend<memcached> && TakeBackend<memcached> && CounterBackend<memcached> &&
              RateLimitBackend<memcached> && LockBackend<memcached> && LookupBackend<memcached>);
static_assert(!PrefixEraseBackend<memcached>);

}  // namespace hotstate::backends
