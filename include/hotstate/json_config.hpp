// hotstate/json_config.hpp: a store's configuration from JSON, in the shape
// Stalwart's in-memory store and coordinator objects have, checked at load.
//
//   auto settings = hotstate::load_store_config<hotstate::backends::redis>(text,
//                                                                          {.member = "inMemoryStore"});
//   hotstate::store<hotstate::backends::redis, ...> store(hotstate::backends::redis(settings));
//
// The backend is chosen at compile time, so the document's "@type" must be
// the one this backend reads; anything else is an error naming both:
//
//   backend                       "@type"         config
//   backends::redis               "Redis"         redis::config
//   backends::redis_cluster       "RedisCluster"  redis::cluster_config
//   backends::redis_sentinel      "Sentinel"      redis::sentinel_config
//   backends::sqlite              "Default"       backends::sqlite_config (path, purgeInterval)
//   backends::memory              "Memory"        backends::memory_config
//   backends::memcached           "Memcached"     backends::memcached_config (urls, timeout, pool fields)
//   backends::sharded<S...>       "Sharded"       {"stores": [ one object per shard, each with its "@type" ]}
//
// Field names are the camelCase of the C++ fields (pool_max_connections is
// "poolMaxConnections"), found by Hana reflection; the few that differ are one
// table (detail/config/reflect.hpp, e.g. protocol is "protocolVersion"). The
// Redis configs' node_settings and retry_policy fields sit flat beside "url",
// as in Stalwart's documents; TLS is a nested "tls" object (redis/tls.hpp).
// Durations are strings: "250ms", "10s", "5m", "2h", "1d", at most "365d"
// (max_duration). Whole numbers are in their field's stated range
// (poolMaxConnections 1..10000), however JSON spells them. Secrets (authSecret,
// sentinelSecret) are a literal string, {"@type": "Value", "secret": "..."},
// {"@type": "EnvironmentVariable", "variable": "NAME"} or {"@type": "File",
// "path": "/run/secrets/redis"} (one trailing newline dropped).
//
// Every problem is hotstate::error(errc::configuration) with the JSON path and
// line and column, e.g. `inMemoryStore.urls[2] (line 5, column 9): port '99999'
// is not a number in 1..65535`: unknown fields (with "did you mean"), a key
// stated twice in one object (both places named), wrong types, bad durations,
// out-of-range numbers, missing required fields, URLs that do not parse, TLS
// files that cannot be read here (json_load_options::check_files; with the
// system's reason, as for a secret's file). No message shows a secret. A
// document is at most 1 MiB (detail::config::max_document_bytes): a larger
// one, or a larger file, is refused before it is parsed.
//
// With validate_on_load (the default) the loader then connects to every
// server (memcached: asks its version, which must have the meta protocol), logs in and checks with the server's ACL (ACL DRYRUN, or commands
// queued in a MULTI and discarded where the user may not run ACL) that the
// user may run every command hotstate sends, and reports all problems in one
// error, so wrong credentials show when the configuration is loaded rather
// than on the first request.
//
// With json_load_options::queues (the queues' options, which
// hotstate/config/queue.hpp loads from the document's "queues" object) the
// check covers the commands the queues send too: one list per capability,
// detail/config/sent_commands.hpp, which hotstate-doctor checks as well.
//
// The coordinator's object: hotstate/config/coordinator.hpp.
//
// Link hotstate::json (nlohmann-json) with hotstate::redis.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <hotstate/backends/sharded.hpp>
#include <hotstate/detail/config/memcached_fields.hpp>
#include <hotstate/detail/config/redis_fields.hpp>
#include <hotstate/detail/config/reflect.hpp>
#include <hotstate/detail/config/store_fields.hpp>
#include <hotstate/detail/config/validate.hpp>
#include <hotstate/error.hpp>
#include <hotstate/queue.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/tls.hpp>

namespace hotstate {

/// The JSON "@type" of a config struct; specialised for each backend's config.
template <class Config>
struct json_variant;

/// Standalone Redis (redis::config).
template <>
struct json_variant<redis::config> {
    static constexpr std::string_view type_name = "Redis";  ///< the "@type"
};
/// Redis Cluster (redis::cluster_config).
template <>
struct json_variant<redis::cluster_config> {
    static constexpr std::string_view type_name = "RedisCluster";  ///< the "@type"
};
/// Redis behind Sentinel (redis::sentinel_config).
template <>
struct json_variant<redis::sentinel_config> {
    static constexpr std::string_view type_name = "Sentinel";  ///< the "@type"
};
/// The embedded store (backends::memory_config).
template <>
struct json_variant<backends::memory_config> {
    static constexpr std::string_view type_name = "Memory";  ///< the "@type"
};
/// memcached, one or more servers (backends::memcached_config).
template <>
struct json_variant<backends::memcached_config> {
    static constexpr std::string_view type_name = "Memcached";  ///< the "@type"
};
#ifdef HOTSTATE_DETAIL_CONFIG_HAS_SQLITE
/// The SQLite store, Stalwart's "Default" variant (backends::sqlite_config).
template <>
struct json_variant<backends::sqlite_config> {
    static constexpr std::string_view type_name = "Default";  ///< the "@type"
};
#endif

/// What a backend is configured with: its config type and the "@type" naming it.
/// Defined for every backend whose config has a json_variant, and for sharded.
template <class Backend>
struct json_backend {
    static_assert(sizeof(Backend) == 0,
                  "hotstate: this backend has no JSON configuration (json_backend<Backend> is not defined for it)");
};

/// A backend with a `config_type` (the Redis backends).
template <class Backend>
    requires requires { typename Backend::config_type; }
struct json_backend<Backend> {
    /// The config struct.
    using config_type = typename Backend::config_type;
    /// The "@type" this backend reads.
    static constexpr std::string_view type_name = json_variant<config_type>::type_name;
};

/// The embedded backend.
template <Clock C>
struct json_backend<backends::basic_memory<C>> {
    /// The config struct.
    using config_type = backends::memory_config;
    /// "Memory".
    static constexpr std::string_view type_name = json_variant<config_type>::type_name;
};

#ifdef HOTSTATE_DETAIL_CONFIG_HAS_SQLITE
/// The SQLite backend.
template <Clock C>
struct json_backend<backends::basic_sqlite<C>> {
    /// The config struct.
    using config_type = backends::sqlite_config;
    /// "Default".
    static constexpr std::string_view type_name = json_variant<config_type>::type_name;
};
#endif

/// The sharded backend: one list of configs per shard type, in the order of
/// the type list (what sharded's constructor takes: std::make_from_tuple or std::apply).
template <StoreBackend... Shards>
struct json_backend<backends::sharded<Shards...>> {
    /// One vector of configs per shard type.
    using config_type = std::tuple<std::vector<typename json_backend<Shards>::config_type>...>;
    /// "Sharded".
    static constexpr std::string_view type_name = "Sharded";
};

/// The config type a backend is loaded into.
template <class Backend>
using json_config_t = typename json_backend<Backend>::config_type;

/// How load_store_config reads a document.
struct json_load_options {
    /// The member of the document's top-level object that holds the store's
    /// object (e.g. "inMemoryStore"); empty: the document is that object.
    std::string member{};
    /// Connect to every server, log in, and check the ACL lets the user run
    /// every command hotstate sends; all problems are reported in one error.
    bool validate_on_load = true;
    /// The files the document names (tls.caFile, caPath, certFile, keyFile)
    /// must be readable here, or the error names their JSON path and the
    /// system's reason. Off for a document written for another machine.
    /// (A secret's "File" is read either way: the secret is its content.)
    bool check_files = true;
    /// Named at the start of every message (a file name); set by load_store_config_file.
    std::string origin{};
    /// Durable queues run on this store with these options (load_queue_options,
    /// hotstate/config/queue.hpp): validate_on_load checks their commands too.
    std::optional<queue_options> queues{};
};

/// How config_to_json writes secrets.
enum class json_secrets : std::uint8_t {
    masked,    ///< "***": for logs and reports
    revealed,  ///< {"@type": "Value", "secret": ...}: a document that loads back
};

namespace detail::config {

template <class Backend>
void read_variant(json_config_t<Backend>& out, const json& object, json_path& path, const reader& in) {
    using traits = json_backend<Backend>;
    if (!object.is_object()) in.fail(path, "expected an object with \"@type\": \"" + std::string(traits::type_name) + "\", got " + reader::kind(object));
    const auto type = object.find("@type");
    if (type == object.end())
        in.fail(path, "missing required field '@type' (this store's backend reads \"" + std::string(traits::type_name) + "\")");
    path.emplace_back("@type");
    if (!type->is_string()) in.fail(path, "expected a string, got " + reader::kind(*type));
    const std::string name = type->get<std::string>();
    if (name != traits::type_name)
        in.fail(path, "\"" + reason_text(name) + "\" does not match this store's backend, which reads \"" +
                          std::string(traits::type_name) + "\" (the backend is chosen at compile time)");
    path.pop_back();
    in.read_object(out, object, path, {"@type"});
}

/// Checks "@type" of `object` is `expected` (for variants read by hand).
inline void read_variant_header(const json& object, json_path& path, const reader& in, std::string_view expected) {
    if (!object.is_object()) in.fail(path, "expected an object, got " + reader::kind(object));
    const auto type = object.find("@type");
    if (type == object.end()) in.fail(path, "missing required field '@type' (this store's backend reads \"" + std::string(expected) + "\")");
    path.emplace_back("@type");
    if (!type->is_string() || type->get<std::string>() != expected)
        in.fail(path, (type->is_string() ? "\"" + reason_text(type->get<std::string>()) + "\"" : reader::kind(*type)) +
                          " does not match this store's backend, which reads \"" + std::string(expected) +
                          "\" (the backend is chosen at compile time)");
    path.pop_back();
}

/// One shard's object into the list of the first shard type whose "@type" it names.
template <class... Shards, std::size_t... I>
void read_shard(json_config_t<backends::sharded<Shards...>>& out, const json& object, json_path& path,
                const reader& in, std::index_sequence<I...>) {
    const auto type = object.is_object() ? object.find("@type") : object.end();
    const std::string name = object.is_object() && type != object.end() && type->is_string() ? type->get<std::string>() : "";
    bool matched = false;
    const auto try_one = [&]<std::size_t N>(std::integral_constant<std::size_t, N>) {
        using shard = std::tuple_element_t<N, std::tuple<Shards...>>;
        if (matched || name != json_backend<shard>::type_name) return;
        matched = true;
        auto& list = std::get<N>(out);
        read_variant<shard>(list.emplace_back(), object, path, in);
    };
    (try_one(std::integral_constant<std::size_t, I>{}), ...);
    if (matched) return;
    std::string expected;
    ((expected += (expected.empty() ? "\"" : ", \"") + std::string(json_backend<Shards>::type_name) + "\""), ...);
    if (!object.is_object()) in.fail(path, "expected an object, got " + reader::kind(object));
    if (type == object.end()) in.fail(path, "missing required field '@type' (a shard of this store is one of " + expected + ")");
    path.emplace_back("@type");
    in.fail(path, "\"" + reason_text(name) + "\" is not a shard type of this store, which has " + expected +
                      " (the backend is chosen at compile time)");
}

template <StoreBackend... Shards>
void read_sharded(json_config_t<backends::sharded<Shards...>>& out, const json& object, json_path& path,
                  const reader& in) {
    read_variant_header(object, path, in, "Sharded");
    for (const auto& [key, value] : object.items()) {
        if (key == "@type" || key == "stores") continue;
        path.emplace_back(key);
        in.fail(path, "unknown field " + shown_text(key) + (edit_distance(key, "stores") <= 2 ? "; did you mean 'stores'?" : ""), true);
    }
    const auto stores = object.find("stores");
    if (stores == object.end()) in.fail(path, "missing required field 'stores'");
    path.emplace_back("stores");
    if (!stores->is_array() || stores->empty()) in.fail(path, "expected a non-empty array of store objects");
    for (std::size_t i = 0; i < stores->size(); ++i) {
        path.emplace_back(i);
        read_shard<Shards...>(out, (*stores)[i], path, in, std::index_sequence_for<Shards...>{});
        path.pop_back();
    }
    path.pop_back();
}

template <class Backend>
struct is_sharded : std::false_type {};
template <class... Shards>
struct is_sharded<backends::sharded<Shards...>> : std::true_type {};

template <class Backend>
void read_store(json_config_t<Backend>& out, const json& object, json_path& path, const reader& in) {
    if constexpr (is_sharded<Backend>::value) {
        [&]<class... Shards>(std::type_identity<backends::sharded<Shards...>>) {
            read_sharded<Shards...>(out, object, path, in);
        }(std::type_identity<Backend>{});
    } else {
        read_variant<Backend>(out, object, path, in);
    }
}

}  // namespace detail::config

/// Reads the store object of `json_text` into `Backend`'s config, then (with
/// options.validate_on_load) connects to every server it names and checks
/// credentials and ACL. Throws errc::configuration: see the banner.
/// @tparam Backend the store's backend type, e.g. backends::redis_cluster
template <class Backend>
[[nodiscard]] json_config_t<Backend> load_store_config(std::string_view json_text, const json_load_options& options = {}) {
    namespace cfg = detail::config;
    const cfg::json document = cfg::parse(json_text, options.origin);
    const cfg::reader in(json_text, options.origin, options.check_files);
    cfg::json_path path;
    const cfg::json* object = &in.member_or_whole(document, options.member, path);
    json_config_t<Backend> out{};
    cfg::read_store<Backend>(out, *object, path, in);
    if (options.validate_on_load) {
        std::vector<std::string> problems;
        cfg::validate(out, problems, {.queues = options.queues, .transport = {}});
        cfg::throw_problems(problems);
    }
    return out;
}

namespace detail::config {

/// The text of the configuration file `file`, read only when it holds at
/// most max_document_bytes (1 MiB); errc::configuration naming it with the
/// system's reason otherwise.
[[nodiscard]] inline std::string read_document(const std::string& file) {
    auto read = read_bounded(file);
    if (read.too_large)
        throw error(errc::configuration, std::string(error_prefix) + file + ": the file is larger than the " +
                                             std::to_string(max_document_bytes) +
                                             " bytes (1 MiB) a configuration may have");
    if (!read.content)
        throw error(errc::configuration, std::string(error_prefix) + "cannot read " + shown_path(file) + ": " + read.reason);
    return std::move(*read.content);
}

}  // namespace detail::config

/// load_store_config on the contents of `file` (at most 1 MiB); messages start with its name.
template <class Backend>
[[nodiscard]] json_config_t<Backend> load_store_config_file(const std::filesystem::path& file,
                                                            json_load_options options = {}) {
    const std::string text = detail::config::read_document(file.string());
    if (options.origin.empty()) options.origin = file.string();
    return load_store_config<Backend>(text, options);
}

/// `Backend`'s config as the JSON object load_store_config reads back
/// (with "@type"), pretty-printed. Secrets masked unless asked otherwise.
template <class Backend>
[[nodiscard]] std::string config_to_json(const json_config_t<Backend>& config, json_secrets secrets = json_secrets::masked) {
    namespace cfg = detail::config;
    const auto mode = secrets == json_secrets::revealed ? cfg::secret_output::revealed : cfg::secret_output::masked;
    cfg::json out = cfg::json::object();
    out["@type"] = std::string(json_backend<Backend>::type_name);
    if constexpr (cfg::is_sharded<Backend>::value) {
        cfg::json stores = cfg::json::array();
        [&]<class... Shards>(std::type_identity<backends::sharded<Shards...>>) {
            const auto add = [&]<class Shard>(std::type_identity<Shard>, const auto& list) {
                for (const auto& item : list) stores.push_back(cfg::json::parse(config_to_json<Shard>(item, secrets)));
            };
            std::apply([&](const auto&... lists) { (add(std::type_identity<Shards>{}, lists), ...); }, config);
        }(std::type_identity<Backend>{});
        out["stores"] = std::move(stores);
    } else {
        cfg::write_fields(out, config, mode);
    }
    return out.dump(2);
}

}  // namespace hotstate
