// hotstate/config/coordinator.hpp: the coordinator's configuration from JSON,
// in the shape of Stalwart's Coordinator object.
//
//   {"@type": "Redis", "url": "redis://redis.example.com:6379", "timeout": "10s",
//    "poolMaxConnections": 10, "channel": "mail:cluster", "nodeId": 7}
//   {"@type": "RedisCluster", "urls": [...], "authUsername": ..., "channel": ...}
//   {"@type": "Default", "nodeId": 7}      // reuse the in-memory store's Redis settings
//
// One object holds the connection (redis::config's fields, as the in-memory
// store's "Redis" object, or redis::cluster_config's for "RedisCluster"), the
// transport's options (redis_pubsub_options or redis_streams_options:
// "channel", "healthCheckInterval", "stream", "maxLength", "cursorKey", ...)
// and coordinator_options ("nodeId", "maxBatchEvents", "sendBackoff":
// {"initial": "100ms", "cap": "3200ms"}, "sending": "background" |
// "callerWhenIdle"), all side by side. Errors and secrets follow
// hotstate/json_config.hpp. validate_on_load connects with the "Redis" or
// "RedisCluster" object's settings and checks the ACL for the store's and the
// transport's commands (detail/config/sent_commands.hpp), as the store's
// loader does; for "Default", pass the store's loaded config to
// load_coordinator_config and the transport is checked on the store's servers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/define_struct.hpp>

#include <hotstate/coordinator.hpp>
#include <hotstate/detail/config/redis_fields.hpp>
#include <hotstate/detail/config/reflect.hpp>
#include <hotstate/detail/config/transport_commands.hpp>
#include <hotstate/detail/config/validate.hpp>
#include <hotstate/json_config.hpp>
#include <hotstate/transports/redis_pubsub.hpp>
#include <hotstate/transports/redis_streams.hpp>

BOOST_HANA_ADAPT_STRUCT(hotstate::detail::backoff_policy, initial, cap);
BOOST_HANA_ADAPT_STRUCT(hotstate::coordinator_options, node_id, max_batch_events, max_batch_bytes, max_event_bytes,
                        max_pending_events, send_backoff, sending);
BOOST_HANA_ADAPT_STRUCT(hotstate::transports::redis_pubsub_options, channel, reconnect, health_check_interval);
BOOST_HANA_ADAPT_STRUCT(hotstate::transports::redis_streams_options, stream, max_length, cursor_key, from_beginning,
                        on_invalid_cursor, read_count, block, reconnect);

namespace hotstate {

/// The coordinator's settings as one JSON object gives them.
/// @tparam TransportOptions transports::redis_pubsub_options or transports::redis_streams_options
template <class TransportOptions>
struct coordinator_config {
    /// The Redis server's settings ("@type": "Redis"); empty for "Default",
    /// which reuses the in-memory store's, and for "RedisCluster".
    std::optional<redis::config> connection{};
    /// The Redis Cluster's settings ("@type": "RedisCluster"); empty otherwise.
    std::optional<redis::cluster_config> cluster{};
    /// The transport's options.
    TransportOptions transport{};
    /// The coordinator's options.
    coordinator_options coordinator{};
};

namespace detail::config {

template <>
inline constexpr bool flattened<::hotstate::coordinator_options> = true;
template <>
inline constexpr bool flattened<::hotstate::transports::redis_pubsub_options> = true;
template <>
inline constexpr bool flattened<::hotstate::transports::redis_streams_options> = true;

template <>
struct enum_names<::hotstate::coordinator_options::send_mode> {
    static constexpr std::pair<::hotstate::coordinator_options::send_mode, std::string_view> values[] = {
        {::hotstate::coordinator_options::send_mode::background, "background"},
        {::hotstate::coordinator_options::send_mode::caller_when_idle, "callerWhenIdle"},
    };
};

template <>
struct enum_names<::hotstate::transports::invalid_cursor_start> {
    static constexpr std::pair<::hotstate::transports::invalid_cursor_start, std::string_view> values[] = {
        {::hotstate::transports::invalid_cursor_start::stream_end, "streamEnd"},
        {::hotstate::transports::invalid_cursor_start::stream_start, "streamStart"},
    };
};

/// "@type": "Redis": the connection's fields beside the options.
template <class TransportOptions>
struct coordinator_redis_object {
    BOOST_HANA_DEFINE_STRUCT(coordinator_redis_object, (::hotstate::redis::config, connection),
                             (TransportOptions, transport), (::hotstate::coordinator_options, coordinator));
};

/// "@type": "RedisCluster": the cluster's fields beside the options.
template <class TransportOptions>
struct coordinator_cluster_object {
    BOOST_HANA_DEFINE_STRUCT(coordinator_cluster_object, (::hotstate::redis::cluster_config, connection),
                             (TransportOptions, transport), (::hotstate::coordinator_options, coordinator));
};

/// "@type": "Default": the options only.
template <class TransportOptions>
struct coordinator_default_object {
    BOOST_HANA_DEFINE_STRUCT(coordinator_default_object, (TransportOptions, transport),
                             (::hotstate::coordinator_options, coordinator));
};

}  // namespace detail::config

}  // namespace hotstate

namespace hotstate::detail::config {
template <>
inline constexpr bool flattened<::hotstate::redis::config> = true;  // only ever a member in coordinator_redis_object
template <>
inline constexpr bool flattened<::hotstate::redis::cluster_config> = true;  // a member only in coordinator_cluster_object
}  // namespace hotstate::detail::config

namespace hotstate {

/// Reads the coordinator object of `json_text` ("@type" "Redis", "RedisCluster"
/// or "Default"), then (validate_on_load, "Redis" and "RedisCluster") connects
/// and checks the ACL for the store's and the transport's commands.
/// Throws errc::configuration with the JSON path, line and column.
template <class TransportOptions>
[[nodiscard]] coordinator_config<TransportOptions> load_coordinator_config(std::string_view json_text,
                                                                           const json_load_options& options = {}) {
    namespace cfg = detail::config;
    const cfg::json document = cfg::parse(json_text, options.origin);
    const cfg::reader in(json_text, options.origin, options.check_files);
    cfg::json_path path;
    const cfg::json* object = &in.member_or_whole(document, options.member, path);
    if (!object->is_object()) in.fail(path, "expected an object, got " + cfg::reader::kind(*object));
    const auto type = object->find("@type");
    if (type == object->end()) in.fail(path, "missing required field '@type' (\"Redis\", \"RedisCluster\" or \"Default\")");
    const std::string name = type->is_string() ? type->get<std::string>() : std::string();
    coordinator_config<TransportOptions> out;
    if (name == "Redis") {
        cfg::coordinator_redis_object<TransportOptions> read;
        in.read_object(read, *object, path, {"@type"});
        out.connection = std::move(read.connection);
        out.transport = std::move(read.transport);
        out.coordinator = read.coordinator;
    } else if (name == "RedisCluster") {
        cfg::coordinator_cluster_object<TransportOptions> read;
        in.read_object(read, *object, path, {"@type"});
        out.cluster = std::move(read.connection);
        out.transport = std::move(read.transport);
        out.coordinator = read.coordinator;
    } else if (name == "Default") {
        cfg::coordinator_default_object<TransportOptions> read;
        in.read_object(read, *object, path, {"@type"});
        out.transport = std::move(read.transport);
        out.coordinator = read.coordinator;
    } else {
        path.emplace_back("@type");
        in.fail(path, (type->is_string() ? "\"" + cfg::reason_text(name) + "\"" : cfg::reader::kind(*type)) +
                          " is not a coordinator this build reads (expected \"Redis\", \"RedisCluster\" or \"Default\")");
    }
    if (options.validate_on_load && (out.connection || out.cluster)) {
        std::vector<std::string> problems;
        const cfg::capabilities with{.queues = std::nullopt, .transport = cfg::transport_use(out.transport)};
        if (out.connection) cfg::validate(*out.connection, problems, with);
        if (out.cluster) cfg::validate(*out.cluster, problems, with);
        cfg::throw_problems(problems);
    }
    return out;
}

/// load_coordinator_config, where a "Default" coordinator runs on the store
/// configured by `store` (what load_store_config returned): validate_on_load
/// then checks the transport's commands on the store's servers too, which
/// the coordinator object alone cannot name.
/// @tparam StoreConfig json_config_t<Backend> of the store's backend
template <class TransportOptions, class StoreConfig>
[[nodiscard]] coordinator_config<TransportOptions> load_coordinator_config(std::string_view json_text,
                                                                           const json_load_options& options,
                                                                           const StoreConfig& store) {
    namespace cfg = detail::config;
    auto out = load_coordinator_config<TransportOptions>(json_text, options);
    if (options.validate_on_load && !out.connection && !out.cluster) {
        std::vector<std::string> problems;
        cfg::validate(store, problems, {.queues = std::nullopt, .transport = cfg::transport_use(out.transport)});
        cfg::throw_problems(problems);
    }
    return out;
}

/// `config` as the coordinator object load_coordinator_config reads back (with
/// "@type"), pretty-printed. Secrets masked unless asked otherwise.
template <class TransportOptions>
[[nodiscard]] std::string coordinator_config_to_json(const coordinator_config<TransportOptions>& config,
                                                     json_secrets secrets = json_secrets::masked) {
    namespace cfg = detail::config;
    const auto mode = secrets == json_secrets::revealed ? cfg::secret_output::revealed : cfg::secret_output::masked;
    cfg::json out = cfg::json::object();
    if (config.connection) {
        out["@type"] = "Redis";
        cfg::write_fields(out, cfg::coordinator_redis_object<TransportOptions>{*config.connection, config.transport,
                                                                               config.coordinator},
                          mode);
    } else if (config.cluster) {
        out["@type"] = "RedisCluster";
        cfg::write_fields(out, cfg::coordinator_cluster_object<TransportOptions>{*config.cluster, config.transport,
                                                                                 config.coordinator},
                          mode);
    } else {
        out["@type"] = "Default";
        cfg::write_fields(out, cfg::coordinator_default_object<TransportOptions>{config.transport, config.coordinator},
                          mode);
    }
    return out.dump(2);
}

}  // namespace hotstate
