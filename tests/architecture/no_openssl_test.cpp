// A program that never includes hotstate/redis/tls.hpp: its translation units
// parse no OpenSSL header (checked by the preprocessor below, so a header that
// starts pulling OpenSSL in again breaks this build), and asking it for TLS
// fails when the settings are loaded, saying which header to include.
#include <hotstate/backends/compiled.hpp>
#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/backends/redis_sentinel.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/queue.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>
#include <hotstate/transports/redis_pubsub.hpp>
#include <hotstate/transports/redis_streams.hpp>

#if defined(OPENSSL_SSL_H) || defined(HEADER_SSL_H) || defined(OPENSSL_OPENSSLV_H) || defined(OPENSSL_CRYPTO_H)
#error "a translation unit that never names TLS parsed OpenSSL's headers (see docs/architecture.md)"
#endif

#include <optional>
#include <string>

#include <catch2/catch.hpp>

namespace {

/// The error constructing a store over `settings` throws, or nothing.
template <class Backend>
std::optional<hotstate::error> error_constructing(typename Backend::config_type settings) {
    try {
        hotstate::store<Backend, hotstate::categories::oauth> store{std::move(settings)};
    } catch (const hotstate::error& failure) {
        return failure;
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("TLS asked of a program without TLS support: a configuration error naming the header", "[tls][architecture]") {
    CHECK(hotstate::detail::redis::installed_tls_library().load() == nullptr);
    hotstate::redis::config settings;
    settings.url = "rediss://127.0.0.1:1";  // never reached: the settings are refused first
    const auto failure = error_constructing<hotstate::backends::redis>(settings);
    REQUIRE(failure);
    CHECK(failure->kind() == hotstate::errc::configuration);
    CHECK_THAT(failure->what(), Catch::Contains("no TLS support compiled in") &&
                                    Catch::Contains("<hotstate/redis/tls.hpp>"));
    CHECK_FALSE(failure->outcome_unknown());
}
