// hotstate/detail/config/redis_fields.hpp: how the Redis configs look in JSON.
//
// The field lists come from the structs' Hana adaptation
// (redis/node_settings.hpp, redis/config.hpp, redis/cluster/config.hpp); this
// file only says what reflection cannot: node_settings, retry_policy and
// lock_options are written flat into their parent's object (Stalwart's
// "timeout", "poolMaxConnections", "maxRetries" sit beside "url"), which
// fields a document must state, the ranges of whole numbers
// (poolMaxConnections 1..10000), and the rules a value must meet beyond its
// type (TLS files readable here), each reported at its own JSON path.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include <hotstate/detail/config/reflect.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/node_settings.hpp>

namespace hotstate::detail::config {

template <>
inline constexpr bool flattened<::hotstate::redis::node_settings> = true;
template <>
inline constexpr bool flattened<::hotstate::redis::retry_policy> = true;
template <>
inline constexpr bool flattened<::hotstate::redis::lock_options> = true;

template <>
struct enum_names<::hotstate::redis::protocol_version> {
    static constexpr std::pair<::hotstate::redis::protocol_version, std::string_view> values[] = {
        {::hotstate::redis::protocol_version::resp2, "resp2"},
        {::hotstate::redis::protocol_version::resp3, "resp3"},
    };
};

template <>
struct required<::hotstate::redis::config> {
    static constexpr std::array<std::string_view, 1> names{"url"};
};
template <>
struct required<::hotstate::redis::cluster_config> {
    static constexpr std::array<std::string_view, 1> names{"urls"};
};
template <>
struct required<::hotstate::redis::sentinel_config> {
    static constexpr std::array<std::string_view, 2> names{"service_name", "sentinel_urls"};
};

/// parse_url's verdict on `url`, reported at `path` (its message already
/// masks any credentials in the URL).
inline void check_url(const std::string& url, const reader& in, json_path path) {
    try {
        (void)::hotstate::redis::parse_url(url);
    } catch (const error& failure) {
        std::string what = failure.message();
        constexpr std::string_view prefix = "hotstate: redis configuration: ";
        if (what.starts_with(prefix)) what.erase(0, prefix.size());
        in.fail(path, what);
    }
}

/// Each URL of a list, at `name[i]`.
inline void check_urls(const std::vector<std::string>& urls, std::string_view name, const reader& in,
                       const json_path& object) {
    json_path path = object;
    path.emplace_back(std::string(name));
    if (urls.empty()) in.fail(path, "at least one URL is needed");
    for (std::size_t i = 0; i < urls.size(); ++i) {
        path.emplace_back(i);
        check_url(urls[i], in, path);
        path.pop_back();
    }
}

template <>
struct ranges<::hotstate::redis::node_settings> {
    static constexpr std::array<field_range, 1> fields{
        field_range{"pool_max_connections", 1, ::hotstate::redis::max_pool_connections}};
};

/// The TLS files must be readable where the document is loaded (unless
/// reader::check_files is off): the error names the JSON path and the
/// system's reason, not only, later, the path at connect time.
template <>
struct checks<::hotstate::redis::tls_options> {
    static void run(const ::hotstate::redis::tls_options& tls, const reader& in, const json_path& object) {
        if (!in.check_files()) return;
        const auto check = [&](const std::string& file, std::string_view name, bool directory) {
            if (file.empty()) return;
            if (const auto problem = file_problem(file, directory)) {
                json_path path = object;
                path.emplace_back(std::string(name));
                in.fail(path, *problem);
            }
        };
        check(tls.ca_file, "caFile", false);
        check(tls.ca_path, "caPath", true);
        check(tls.cert_file, "certFile", false);
        check(tls.key_file, "keyFile", false);
    }
};

template <>
struct checks<::hotstate::redis::node_settings> {
    static void run(const ::hotstate::redis::node_settings& node, const reader& in, const json_path& object) {
        const auto at = [&](std::string_view name) {
            json_path path = object;
            path.emplace_back(std::string(name));
            return path;
        };
        if (node.timeout.count() <= 0) in.fail(at("timeout"), "must be longer than 0");
        if (node.pool_timeout_create.count() <= 0) in.fail(at("poolTimeoutCreate"), "must be longer than 0");
        if (node.auth_username && node.auth_username->find('\0') != std::string::npos)
            in.fail(at("authUsername"), "contains a NUL byte");
        if (node.auth_secret && node.auth_secret->reveal().find('\0') != std::string::npos)
            in.fail(at("authSecret"), "contains a NUL byte");
    }
};

template <>
struct checks<::hotstate::redis::retry_policy> {
    static void run(const ::hotstate::redis::retry_policy& retry, const reader& in, const json_path& object) {
        if (retry.max_retry_wait < retry.min_retry_wait) {
            json_path path = object;
            path.emplace_back("maxRetryWait");
            in.fail(path, "must not be shorter than minRetryWait");
        }
    }
};

template <>
struct checks<::hotstate::redis::config> {
    static void run(const ::hotstate::redis::config& settings, const reader& in, const json_path& object) {
        json_path path = object;
        path.emplace_back("url");
        check_url(settings.url, in, path);
    }
};

template <>
struct checks<::hotstate::redis::cluster_config> {
    static void run(const ::hotstate::redis::cluster_config& settings, const reader& in, const json_path& object) {
        check_urls(settings.urls, "urls", in, object);
    }
};

template <>
struct checks<::hotstate::redis::sentinel_config> {
    static void run(const ::hotstate::redis::sentinel_config& settings, const reader& in, const json_path& object) {
        check_urls(settings.sentinel_urls, "sentinelUrls", in, object);
        if (settings.service_name.empty()) {
            json_path path = object;
            path.emplace_back("serviceName");
            in.fail(path, "must not be empty");
        }
    }
};

}  // namespace hotstate::detail::config
