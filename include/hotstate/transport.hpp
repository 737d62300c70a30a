// hotstate/transport.hpp: the Transport policy of hotstate::coordinator.
//
// A transport moves opaque messages (batches encoded by the coordinator)
// between the nodes of a cluster. The coordinator does the typing, batching,
// sequence numbering and loss detection; a transport only sends and receives.
//
// Models, and when to use each:
//
//   model (transports::, in transports/<model>.hpp)  durable  server
//   local                                            no       none (one process)
//   redis_pubsub                                     no       one Redis server
//   redis_streams                                    yes      one Redis server
//   redis_cluster_pubsub                             no       Redis Cluster
//   redis_cluster_sharded_pubsub                     no       Redis Cluster, Redis 7+
//   redis_cluster_streams                            yes      Redis Cluster
//   nats                                             no       nats-server (hotstate::nats)
//   nats_jetstream                                   yes      nats-server with JetStream
//
//   - transports::local: in-process bus. Single-node programs, and tests that
//     run several nodes in one process. Nothing lost, nothing kept for a node
//     that is not attached.
//   - transports::redis_pubsub: Redis PUBLISH / SUBSCRIBE. Lowest latency, fire
//     and forget: what is published while a node is disconnected is lost, and
//     the coordinator reports it as a gap (outage + skipped sequence numbers and
//     the number of events they held) so caches can be resynchronised. Use for
//     wake-ups and invalidations where a resync is cheap.
//   - transports::redis_streams: a Redis Stream (XADD with approximate MAXLEN,
//     XREAD from the last delivered id). Durable within the retention bound: a
//     node that was offline catches up when it returns; it is told when it fell
//     behind the retention. With a cursor_key, a node that crashed resumes after
//     the last message it finished handling (at most the message it was handling
//     is delivered again). Use for what must not be lost (blocked IPs,
//     certificates, settings).
//   - transports::redis_cluster_pubsub: redis_pubsub on a Redis Cluster. PUBLISH
//     goes to the master of the channel's slot and follows a failover; the
//     subscriber listens on any live node. Every message crosses the cluster bus
//     to every node: fine for a few channels and moderate rates.
//   - transports::redis_cluster_sharded_pubsub: SPUBLISH / SSUBSCRIBE (Redis 7).
//     A channel's messages stay on the nodes of its slot, so traffic scales with
//     the shards; the subscriber follows the slot when it moves. Prefer it to
//     redis_cluster_pubsub on a Redis 7 cluster.
//   - transports::redis_cluster_streams: redis_streams on a Redis Cluster, routed
//     by the stream's key (its cursor keys share the stream's {hash tag}). Use on
//     a cluster for what must not be lost.
//   - transports::nats: core NATS publish/subscribe (libnats). Fire and forget
//     like redis_pubsub, with the same gap reports; the client reconnects by
//     itself and keeps what is published meanwhile in a bounded reconnect
//     buffer. For deployments that already run NATS, or outgrow one Redis.
//   - transports::nats_jetstream: a JetStream stream per coordinator and a
//     durable consumer per node; catch-up after downtime within the stream's
//     retention, acknowledgements so a crashed node gets again at most the
//     message it was handling, duplicate-free retried publishes. The NATS
//     counterpart of redis_streams.
// Every model passes one conformance suite (tests/coordinator/conformance/).
// The Redis models are two templates, basic_redis_pubsub and basic_redis_streams,
// over a detail::Link (detail/coordinator/link.hpp): one server or a cluster.
//
// A model provides:
//   static constexpr bool durable;       true: the coordinator retries a failed send
//                                        until it succeeds (or stop); false: it drops it
//   void send(std::string_view message); blocking; never called concurrently (the
//                                        coordinator's sender thread, or a publishing caller
//                                        with send_mode::caller_when_idle); throws hotstate::error
//   template <class Sink> void start(Sink& sink);
//                                        begin delivering on the transport's receive thread:
//                                        sink.on_message(std::string_view) for each message
//                                        (the view is valid during the call only), in the
//                                        order of the publisher's sends, one at a time;
//                                        sink.on_outage(const transport_outage&) when
//                                        messages may have been missed;
//                                        sink.on_connection(const connection_event&) when the
//                                        receiving side connects, fails to, loses its connection
//                                        or is back (on the same thread, never a secret inside)
//   void stop();                         prompt (no thread left blocked on a socket) and
//                                        idempotent; no sink call happens after it returns
// and may provide:
//   void declare_channel(std::string_view name, std::uint32_t tag, bool writes_json);
//                                        called by the coordinator for each of its channels
//                                        before start() (transports::json_envelope names
//                                        channels on the wire with it)
// and may call, on the receive thread, sink.on_malformed(std::size_t bytes, std::string_view why)
// (if the sink has it: the coordinator's has) for a message it read and found malformed.
//
// An adapter changes what goes over any model: transports::json_envelope<T>
// (transports/json_envelope.hpp, target hotstate::json) carries each message as
// a JSON document a service in another language reads with its JSON parser alone.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <hotstate/error.hpp>

namespace hotstate {

/// Why a transport may have missed messages.
enum class outage_kind : std::uint8_t {
    disconnected,        ///< the receiving connection dropped and was re-established
    retention_exceeded,  ///< durable transport: entries this node had not read were trimmed
    cursor_invalid,      ///< durable transport: the saved position was unreadable or named no entry; the reader started
                         ///< where its policy says, so messages may be missing (or repeated)
};

/// Reported by a transport to its sink when messages may have been missed.
struct transport_outage {
    outage_kind kind = outage_kind::disconnected;
    /// How long the receiver was not listening (0 when unknown).
    std::chrono::milliseconds duration{0};
    /// What happened and where (host:port, operation); never a secret.
    std::string detail;
};

/// What happened to a transport's connection (see connection_event).
enum class connection_state : std::uint8_t {
    connected,       ///< the receiving side is connected (subscribed, or positioned in the stream) for the first time
    reconnected,     ///< the receiving side is back after a failure (resubscribed, reading again)
    connect_failed,  ///< the receiving side could not (re)connect: refused, authentication, timeout...; it retries
    lost,            ///< the receiving side's established connection dropped; it reconnects
    send_failed,     ///< a send failed: dropped (pub/sub) or retried (durable transports) until sends succeed
    send_recovered,  ///< a send succeeded after failures
};

/// The state's name, e.g. "connect_failed", for logs.
[[nodiscard]] constexpr std::string_view to_string(connection_state state) noexcept {
    switch (state) {
        case connection_state::connected: return "connected";
        case connection_state::reconnected: return "reconnected";
        case connection_state::connect_failed: return "connect_failed";
        case connection_state::lost: return "lost";
        case connection_state::send_failed: return "send_failed";
        case connection_state::send_recovered: return "send_recovered";
    }
    return "unknown";
}

/// A connection state change or error of a transport, as coordinator::on_connection reports it.
/// Reported on changes, not per attempt: a failure that repeats with the same error is reported once.
struct connection_event {
    connection_state state = connection_state::connected;
    /// The failure (connect_failed, lost, send_failed): kind() says authentication, connection,
    /// timeout...; the message names the server and the operation, never a secret. Empty otherwise.
    std::optional<error> problem{};
    /// reconnected, send_recovered: how long it had been failing (0 when unknown).
    std::chrono::milliseconds down_for{0};
};

namespace detail {

/// The minimal sink a transport must accept: used to check the concept.
struct transport_sink_archetype {
    void on_message(std::string_view) {}
    void on_outage(const transport_outage&) {}
    void on_connection(const connection_event&) {}
};

}  // namespace detail

/// A way to move coordinator messages between nodes (see the banner above).
template <class T>
concept Transport = requires(T& transport, std::string_view message, detail::transport_sink_archetype& sink) {
    { T::durable } -> std::convertible_to<bool>;
    transport.send(message);
    transport.start(sink);
    transport.stop();
};

}  // namespace hotstate
