// Property: every field of every config struct survives JSON -> struct -> JSON.
// Each config is filled with random values field by field (through the same
// Hana field list the loader uses, so a new field is covered without editing
// this test), written, read back and compared field by field.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/backends/redis_sentinel.hpp>
#include <hotstate/backends/sqlite.hpp>
#include <hotstate/config/coordinator.hpp>
#include <hotstate/json_config.hpp>

namespace backends = hotstate::backends;
namespace cfg = hotstate::detail::config;

namespace {

struct filler {
    std::mt19937_64 random;

    template <class T>
    void fill(T& out) {
        if constexpr (std::is_same_v<T, bool>) {
            out = (random() & 1) != 0;
        } else if constexpr (std::is_same_v<T, hotstate::secret>) {
            out = "s3cr\"et-" + std::to_string(random());
        } else if constexpr (std::is_same_v<T, std::string>) {
            out = "redis://h" + std::to_string(random() % 1000) + ":" + std::to_string(1 + random() % 65535);
        } else if constexpr (cfg::traits::is_duration<T>::value) {
            // within the loader's maximum (365d) in whatever unit T counts
            const auto most = std::chrono::duration_cast<T>(cfg::max_duration).count();
            out = T{static_cast<typename T::rep>(1 + random() % static_cast<std::uint64_t>(std::min<decltype(most)>(most, 100000000)))};
        } else if constexpr (std::is_enum_v<T>) {
            const auto& values = cfg::enum_names<T>::values;
            out = values[random() % std::size(values)].first;
        } else if constexpr (std::is_integral_v<T>) {
            out = static_cast<T>(random());
            if (out == 0) out = 1;
        } else if constexpr (cfg::traits::is_optional<T>::value) {
            fill(out.emplace());
        } else if constexpr (cfg::traits::is_vector<T>::value) {
            out.resize(1 + random() % 4);
            for (auto& item : out) fill(item);
        } else {
            boost::hana::for_each(boost::hana::accessors<T>(), [&](auto field) {
                auto& member = boost::hana::second(field)(out);
                fill(member);
                // a whole number with a stated range: within it
                if constexpr (std::is_integral_v<std::remove_cvref_t<decltype(member)>>) {
                    if (const auto range = cfg::range_of<T>(boost::hana::to<const char*>(boost::hana::first(field))))
                        member = static_cast<std::remove_cvref_t<decltype(member)>>(
                            static_cast<std::uint64_t>(range->min) +
                            random() % (range->max - static_cast<std::uint64_t>(range->min) + 1));
                }
            });
        }
    }
};

/// Field-wise equality over the Hana field list; `where` names the first difference.
template <class T>
bool same(const T& a, const T& b, std::string& where, const std::string& path = "") {
    if constexpr (std::is_same_v<T, hotstate::secret> || std::is_same_v<T, std::string> || std::is_arithmetic_v<T> ||
                  std::is_enum_v<T> || cfg::traits::is_duration<T>::value) {
        if (!(a == b)) where = path;
        return a == b;
    } else if constexpr (cfg::traits::is_optional<T>::value) {
        if (a.has_value() != b.has_value()) return where = path, false;
        return !a || same(*a, *b, where, path);
    } else if constexpr (cfg::traits::is_vector<T>::value) {
        if (a.size() != b.size()) return where = path, false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!same(a[i], b[i], where, path + "[" + std::to_string(i) + "]")) return false;
        return true;
    } else {
        bool equal = true;
        boost::hana::for_each(boost::hana::accessors<T>(), [&](auto field) {
            if (equal)
                equal = same(boost::hana::second(field)(a), boost::hana::second(field)(b), where,
                             path + "." + boost::hana::to<const char*>(boost::hana::first(field)));
        });
        return equal;
    }
}

template <class Backend>
void round_trips(std::uint64_t seed) {
    filler make{std::mt19937_64(seed)};
    hotstate::json_config_t<Backend> original{};
    make.fill(original);
    if constexpr (std::is_same_v<hotstate::json_config_t<Backend>, hotstate::redis::cluster_config> ||
                  std::is_same_v<hotstate::json_config_t<Backend>, hotstate::redis::sentinel_config>) {
        // a legal document has maxRetryWait >= minRetryWait
        if (original.retry.max_retry_wait < original.retry.min_retry_wait)
            std::swap(original.retry.max_retry_wait, original.retry.min_retry_wait);
    }
    const std::string text = hotstate::config_to_json<Backend>(original, hotstate::json_secrets::revealed);
    INFO(text);
    const auto loaded = hotstate::load_store_config<Backend>(text, {.validate_on_load = false, .check_files = false});
    std::string where;
    CHECK(same(original, loaded, where));
    INFO("first difference at " << where);
    CHECK(where.empty());
    CHECK(hotstate::config_to_json<Backend>(loaded, hotstate::json_secrets::revealed) == text);
}

}  // namespace

TEST_CASE("every config field round-trips JSON -> struct -> JSON", "[config_json]") {
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        INFO("seed " << seed);
        round_trips<backends::redis>(seed);
        round_trips<backends::redis_cluster>(seed);
        round_trips<backends::redis_sentinel>(seed);
        round_trips<backends::sqlite>(seed);
        round_trips<backends::memory>(seed);
    }
}

TEST_CASE("a sharded config round-trips with its shards in type order", "[config_json]") {
    using store = backends::sharded<backends::redis, backends::redis_cluster>;
    filler make{std::mt19937_64(7)};
    hotstate::json_config_t<store> original;
    make.fill(std::get<0>(original));
    make.fill(std::get<1>(original));
    for (auto& c : std::get<1>(original))
        if (c.retry.max_retry_wait < c.retry.min_retry_wait) std::swap(c.retry.max_retry_wait, c.retry.min_retry_wait);
    const std::string text = hotstate::config_to_json<store>(original, hotstate::json_secrets::revealed);
    const auto loaded = hotstate::load_store_config<store>(text, {.validate_on_load = false, .check_files = false});
    std::string where;
    CHECK(same(std::get<0>(original), std::get<0>(loaded), where));
    CHECK(same(std::get<1>(original), std::get<1>(loaded), where));
}

TEST_CASE("config_to_json masks secrets unless asked to reveal them", "[config_json]") {
    hotstate::redis::config settings{.url = "redis://h:1"};
    settings.node.auth_secret = hotstate::secret("hunter2");
    const std::string masked = hotstate::config_to_json<backends::redis>(settings);
    CHECK(masked.find("hunter2") == std::string::npos);
    CHECK(masked.find("\"authSecret\": \"***\"") != std::string::npos);
    CHECK(hotstate::config_to_json<backends::redis>(settings, hotstate::json_secrets::revealed).find("hunter2") !=
          std::string::npos);
}

namespace {

/// A coordinator config with random values in every field of the variant `type` names.
template <class TransportOptions>
void coordinator_round_trips(std::uint64_t seed, std::string_view type) {
    filler make{std::mt19937_64(seed)};
    hotstate::coordinator_config<TransportOptions> original;
    if (type == "Redis") make.fill(original.connection.emplace());
    if (type == "RedisCluster") {
        auto& cluster = original.cluster.emplace();
        make.fill(cluster);
        if (cluster.retry.max_retry_wait < cluster.retry.min_retry_wait)
            std::swap(cluster.retry.max_retry_wait, cluster.retry.min_retry_wait);
    }
    make.fill(original.transport);
    make.fill(original.coordinator);
    const std::string text = hotstate::coordinator_config_to_json(original, hotstate::json_secrets::revealed);
    INFO(text);
    CHECK(text.find("\"@type\": \"" + std::string(type) + "\"") != std::string::npos);
    const auto loaded = hotstate::load_coordinator_config<TransportOptions>(text, {.validate_on_load = false, .check_files = false});
    std::string where;
    CHECK(same(original.connection, loaded.connection, where, "connection"));
    CHECK(same(original.cluster, loaded.cluster, where, "cluster"));
    CHECK(same(original.transport, loaded.transport, where, "transport"));
    CHECK(same(original.coordinator, loaded.coordinator, where, "coordinator"));
    INFO("first difference at " << where);
    CHECK(where.empty());
    CHECK(hotstate::coordinator_config_to_json(loaded, hotstate::json_secrets::revealed) == text);
}

}  // namespace

TEST_CASE("every coordinator config field round-trips, for each variant and transport", "[config_json]") {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        INFO("seed " << seed);
        for (const std::string_view type : {"Redis", "RedisCluster", "Default"}) {
            INFO(type);
            coordinator_round_trips<hotstate::transports::redis_pubsub_options>(seed, type);
            coordinator_round_trips<hotstate::transports::redis_streams_options>(seed, type);
        }
    }
}
