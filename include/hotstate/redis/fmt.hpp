// hotstate/redis/fmt.hpp: {fmt} formatters for the Redis configs and endpoint.
//
// Opt-in like hotstate/fmt.hpp (which it includes): link `hotstate::fmt` and
// `hotstate::redis`. Each formatter prints exactly what the type's to_string
// prints, so every secret (URL passwords, auth_secret, sentinel_secret) shows
// as ***.
#pragma once

#include <fmt/format.h>

#include <hotstate/fmt.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/config.hpp>

/// Formats a redis::config with its secrets masked (same text as to_string).
template <>
struct fmt::formatter<hotstate::redis::config> : hotstate::detail::to_string_formatter<hotstate::redis::config> {};
/// Formats a redis::endpoint with its password masked.
template <>
struct fmt::formatter<hotstate::redis::endpoint> : hotstate::detail::to_string_formatter<hotstate::redis::endpoint> {};
/// Formats a redis::cluster_config with its secrets masked (same text as to_string).
template <>
struct fmt::formatter<hotstate::redis::cluster_config>
    : hotstate::detail::to_string_formatter<hotstate::redis::cluster_config> {};
/// Formats a redis::sentinel_config with its secrets masked (same text as to_string).
template <>
struct fmt::formatter<hotstate::redis::sentinel_config>
    : hotstate::detail::to_string_formatter<hotstate::redis::sentinel_config> {};
