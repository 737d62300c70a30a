// hotstate/events.hpp: stock coordinator events and channels.
//
// The events a mail server cluster tells its nodes about (the seeds list
// mailbox changes, IMAP IDLE and push triggers, blocked IPs, new ACME
// certificates, settings reloads and cache invalidations), each on its own
// channel so a coordinator declares exactly the ones it uses:
//
//   hotstate::coordinator<T, hotstate::channels::state_changes,
//                            hotstate::channels::blocked_ips> coord(...);
//
// Field order is the wire order: append new fields at the end, never reorder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <hotstate/channel.hpp>
#include <hotstate/clock.hpp>

namespace hotstate::events {

/// Bits of state_change::changed_types: which kinds of objects of an account changed.
enum class changed_type : std::uint64_t {
    email = 1u << 0,
    mailbox = 1u << 1,
    thread = 1u << 2,
    identity = 1u << 3,
    email_submission = 1u << 4,
    vacation_response = 1u << 5,
    contact = 1u << 6,
    calendar = 1u << 7,
    sieve_script = 1u << 8,
    push_subscription = 1u << 9,
};

/// An account's mailbox state changed: wakes JMAP/IMAP sessions of that account on every node.
struct state_change {
    BOOST_HANA_DEFINE_STRUCT(state_change,
        (std::uint32_t, account_id),
        (std::uint64_t, change_id),
        (std::uint64_t, changed_types));  ///< OR of changed_type bits

    /// True when `type` is among the changed types.
    [[nodiscard]] constexpr bool has(changed_type type) const noexcept {
        return (changed_types & static_cast<std::uint64_t>(type)) != 0;
    }
};

/// Who a push_trigger wakes.
enum class push_target : std::uint8_t {
    imap_idle = 1,  ///< IMAP sessions in IDLE
    web_push = 2,   ///< registered push subscriptions (RFC 8620 push, web push)
    all = 3,
};

/// Wake IDLE sessions and/or push subscribers of one account, e.g. after delivery on another node.
struct push_trigger {
    BOOST_HANA_DEFINE_STRUCT(push_trigger,
        (std::uint32_t, account_id),
        (push_target, target));
};

/// An address or network was blocked (fail2ban-style); every node should refuse it.
struct blocked_ip {
    BOOST_HANA_DEFINE_STRUCT(blocked_ip,
        (std::vector<std::uint8_t>, address),   ///< 4 (IPv4) or 16 (IPv6) bytes, network order
        (std::uint8_t, prefix_length),          ///< 32/128 for a single address, less for a network
        (std::optional<time_point>, until));    ///< empty: blocked until removed
};

/// A new ACME certificate was issued and stored: nodes reload it for `domain`.
struct certificate_available {
    BOOST_HANA_DEFINE_STRUCT(certificate_available,
        (std::string, domain),
        (std::string, certificate_id));
};

/// Settings changed: reload them without restarting (cluster-wide, the peers' users asked for it).
struct settings_reload {
    BOOST_HANA_DEFINE_STRUCT(settings_reload,
        (std::string, section),     ///< empty: everything
        (std::uint64_t, version));  ///< monotonic settings version, 0 if unknown
};

/// What a cache_invalidation refers to.
enum class cache_kind : std::uint8_t {
    account = 1,
    domain = 2,
    credentials = 3,  ///< password / app-password caches: stale ones let old passwords in
    mailbox = 4,
    mailing_list = 5,
    dkim_key = 6,
    other = 255,
};

/// Drop a cached entry on every node.
struct cache_invalidation {
    BOOST_HANA_DEFINE_STRUCT(cache_invalidation,
        (cache_kind, what),
        (std::uint64_t, id));
};

}  // namespace hotstate::events

namespace hotstate::channels {

/// Mailbox/state changes.
using state_changes = channel<"state-change", events::state_change>;
/// IMAP IDLE and push triggers.
using push_triggers = channel<"push-trigger", events::push_trigger>;
/// Blocked addresses and networks.
using blocked_ips = channel<"blocked-ip", events::blocked_ip>;
/// Newly available ACME certificates.
using certificates = channel<"certificate", events::certificate_available>;
/// Settings reloads.
using settings_reloads = channel<"settings-reload", events::settings_reload>;
/// Cache invalidations.
using cache_invalidations = channel<"cache-invalidation", events::cache_invalidation>;

}  // namespace hotstate::channels
