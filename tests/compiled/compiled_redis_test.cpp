// compiled<redis> in a TU that also sees the engine: pipelines run the
// engine's pipeline, engine() reaches what only the engine offers, typed
// errors (and their redaction) cross the separately compiled boundary
// unchanged, and a moved backend keeps its pool.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <boost/hana/define_struct.hpp>
#include <catch2/catch.hpp>

#include <hotstate/backends/compiled.hpp>
#include <hotstate/backends/redis.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

#include "support/loopback.hpp"
#include "support/redis_server.hpp"

using namespace std::chrono_literals;
namespace ops = hotstate::redis::ops;
using hotstate::testing::redis_server;

namespace {

struct profile {
    BOOST_HANA_DEFINE_STRUCT(profile, (std::string, account), (std::int64_t, logins));
};

struct failed_logins : hotstate::category<40, "failed-logins", std::int64_t> {};
struct oauth : hotstate::category<42, "oauth"> {};
struct profiles : hotstate::category<43, "profiles", profile> {};

using backend = hotstate::backends::compiled<hotstate::backends::redis>;
using store_type = hotstate::store<backend, failed_logins, oauth, profiles>;

hotstate::redis::config config_for(const redis_server& server) {
    hotstate::redis::config settings;
    settings.url = server.url();
    settings.node.timeout = 5s;
    settings.node.pool_timeout_create = 5s;
    settings.node.pool_timeout_wait = 5s;
    return settings;
}

template <class Call>
std::optional<hotstate::error> error_of(Call&& call) {
    try {
        call();
    } catch (const hotstate::error& e) {
        return e;
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("compiled: the store's bytes are the header-only backend's", "[compiled]") {
    redis_server server;
    store_type compiled_store(config_for(server));
    hotstate::store<hotstate::backends::redis, failed_logins, oauth, profiles> header_only(config_for(server));

    compiled_store.set<profiles>("ann", profile{"ann", 3}, 1min);
    compiled_store.set<oauth>("code-1", "grant");
    CHECK(compiled_store.increment<failed_logins>("10.0.0.1", 2, 1min) == 2);

    // one server, two front ends: each reads what the other wrote
    const auto read = header_only.get<profiles>("ann");
    REQUIRE(read.has_value());
    CHECK(read->account == "ann");
    CHECK(read->logins == 3);
    CHECK(header_only.increment<failed_logins>("10.0.0.1", 1, 1min) == 3);
    CHECK(compiled_store.take<oauth>("code-1") == "grant");
    CHECK_FALSE(header_only.exists<oauth>("code-1"));
    CHECK(server.command({"GET", "\x2a" "code-1"})->type == REDIS_REPLY_NIL);
}

TEST_CASE("compiled: a pipeline runs the engine's pipeline in one write", "[compiled][pipeline]") {
    redis_server server;
    store_type s(config_for(server));
    s.set<oauth>("code-2", "grant-2");

    auto [hits, code, missing] = s.pipeline(ops::incr<failed_logins>{"10.0.0.2", 5, 1min},
                                            ops::take<oauth>{"code-2"}, ops::get<oauth>{"code-2"});
    CHECK(hits == 5);
    CHECK(code == "grant-2");
    CHECK_FALSE(missing.has_value());
    const auto stored = server.command({"GET", "\x28" "10.0.0.2"});  // the store's key: prefix byte ++ key
    REQUIRE(stored->type == REDIS_REPLY_STRING);
    CHECK(std::string(stored->str, stored->len) == "5");

    // engine(): what only the engine's header offers
    CHECK(s.backend().engine().connections().open_connections() >= 1);
}

TEST_CASE("compiled: errors cross the boundary typed, without secrets", "[compiled][errors]") {
    SECTION("wrong password") {
        redis_server server({.requirepass = "right-horse-battery"});
        auto settings = config_for(server);
        settings.node.auth_secret = "wrong-staple-secret";
        store_type s(settings);
        const auto failure = error_of([&] { s.set<oauth>("k", "v"); });
        REQUIRE(failure.has_value());
        CHECK(failure->kind() == hotstate::errc::authentication);
        CHECK_THAT(failure->what(), !Catch::Contains("wrong-staple-secret"));
        CHECK_THAT(failure->what(), !Catch::Contains("right-horse-battery"));
    }
    SECTION("nothing listening") {
        hotstate::redis::config settings;
        settings.url = "redis://127.0.0.1:" + std::to_string(hotstate::testing::free_port());
        settings.node.timeout = 2s;
        settings.node.pool_timeout_create = 2s;
        store_type s(settings);
        const auto failure = error_of([&] { (void)s.get<oauth>("k"); });
        REQUIRE(failure.has_value());
        CHECK(failure->kind() == hotstate::errc::connection);
        CHECK_THAT(failure->what(), Catch::Contains(settings.url.substr(8)));
    }
    SECTION("a malformed URL is refused when the backend is built") {
        hotstate::redis::config settings;
        settings.url = "redis://127.0.0.1:notaport";
        const auto failure = error_of([&] { store_type s(settings); });
        REQUIRE(failure.has_value());
        CHECK(failure->kind() == hotstate::errc::configuration);
    }
}

TEST_CASE("compiled: a moved backend keeps its engine and pool", "[compiled]") {
    redis_server server;
    backend first(config_for(server));
    first.ping();
    backend second(std::move(first));
    second.kv_set("\x2a" "moved", "yes", 0ms);
    std::string read;
    CHECK(second.kv_get("\x2a" "moved", [&](std::string_view bytes) { read = bytes; }));
    CHECK(read == "yes");
    CHECK(second.settings().url == server.url());
    CHECK(second.engine().connections().open_connections() == 1);
}
