// The laws of KeyValueBackend (key/value with TTL), through the store's
// set, get, erase, exists, and of PrefixEraseBackend through erase_all.
// Included by laws/store.hpp.
#pragma once

#include <string>

#include "laws/store_support.hpp"

namespace laws {

HOTSTATE_STORE_LAW("key_value: set, get, erase, exists", "[laws][key_value]", key_value) {

    CHECK_FALSE(s.template get<text>("missing").has_value());
    CHECK_FALSE(s.template exists<text>("missing"));
    CHECK_FALSE(s.template erase<text>("missing"));

    s.template set<text>("greeting", "hello");
    CHECK(s.template get<text>("greeting") == "hello");
    CHECK(s.template exists<text>("greeting"));
    s.template set<text>("greeting", "replaced");
    CHECK(s.template get<text>("greeting") == "replaced");

    SECTION("categories are separate key spaces") {
        CHECK_FALSE(s.template exists<other_text>("greeting"));
        s.template set<other_text>("greeting", "other");
        CHECK(s.template get<text>("greeting") == "replaced");
        CHECK(s.template get<other_text>("greeting") == "other");
    }
    SECTION("erase removes") {
        CHECK(s.template erase<text>("greeting"));
        CHECK_FALSE(s.template exists<text>("greeting"));
        CHECK_FALSE(s.template get<text>("greeting").has_value());
    }
    SECTION("keys and values are binary safe") {
        const std::string value("\0v\0\xff\x80 end", 9);
        s.template set<text>(binary_key(), value);
        CHECK(s.template get<text>(binary_key()) == value);
        CHECK_FALSE(s.template exists<text>(std::string("bin")));
        s.template set<text>("empty", "");
        CHECK(s.template get<text>("empty") == std::string());
    }
    SECTION("a 1 MiB value round-trips") {
        std::string big(1 << 20, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
        s.template set<text>("big", big);
        CHECK(s.template get<text>("big") == big);
    }
}

HOTSTATE_STORE_LAW("key_value: TTLs", "[laws][key_value][ttl]", key_value) {

    SECTION("a key with a TTL is readable until it expires") {
        s.template set<text>("long", "v", 10min);
        CHECK(s.template get<text>("long") == "v");
        s.template set<text>("short", "v", fixture.short_ttl());
        fixture.pass(fixture.short_ttl() + 1ms);
        CHECK(eventually([&] { return !s.template exists<text>("short"); }));
        CHECK_FALSE(s.template get<text>("short").has_value());
        CHECK(s.template get<text>("long") == "v");
    }
    SECTION("a plain set clears an earlier TTL") {
        s.template set<text>("k", "v1", fixture.short_ttl());
        s.template set<text>("k", "v2");
        fixture.pass(fixture.short_ttl() * 3);
        CHECK_FALSE(eventually([&] { return !s.template exists<text>("k"); },
                               real_time_wait(fixture, fixture.short_ttl() * 3)));
        CHECK(s.template get<text>("k") == "v2");
    }
    SECTION("zero and negative TTLs are refused") {
        CHECK_THROWS_MATCHES(s.template set<text>("k", "v", 0ms), hotstate::error,
                             Catch::Matchers::Predicate<hotstate::error>(
                                 [](const hotstate::error& e) { return e.kind() == hotstate::errc::invalid_argument; }));
        CHECK_THROWS_AS(s.template set<text>("k", "v", -5ms), hotstate::error);
        CHECK_FALSE(s.template exists<text>("k"));
    }
}

HOTSTATE_STORE_LAW("key_value: typed values", "[laws][key_value][codec]", key_value) {

    s.template set<number>("n", std::int64_t{-42});
    CHECK(s.template get<number>("n") == -42);

    const login_record written{"alice@example.org", 3, true, std::string("too many attempts")};
    s.template set<record>("alice", written);
    const auto read = s.template get<record>("alice");
    REQUIRE(read.has_value());
    CHECK(read->account == written.account);
    CHECK(read->attempts == 3);
    CHECK(read->blocked);
    CHECK(read->reason == written.reason);

    SECTION("foreign bytes under a typed key give a decode error naming the category") {
        s.backend().kv_set(hotstate::encode_key<record>("garbage"), std::string("\x05\x01", 2), 0ms);
        const auto e = error_of([&] { (void)s.template get<record>("garbage"); });
        CHECK(e.kind() == hotstate::errc::decode);
        CHECK_THAT(e.what(), Catch::Contains("conf-record"));
        CHECK_THAT(e.what(), !Catch::Contains("garbage"));
    }
}

HOTSTATE_STORE_LAW("key_value: erase_all by category and prefix", "[laws][key_value]", erase_prefix) {

    for (int i = 0; i < 50; ++i) s.template set<text>("user:" + std::to_string(i), "v");
    for (int i = 0; i < 20; ++i) s.template set<text>("host:" + std::to_string(i), "v");
    s.template set<other_text>("user:1", "keep");
    if constexpr (has<TestType, laws::counters>) s.template increment<number>("user:counter");

    CHECK(s.template erase_all<text>("user:") == 50);
    CHECK_FALSE(s.template exists<text>("user:7"));
    CHECK(s.template exists<text>("host:7"));
    CHECK(s.template get<other_text>("user:1") == "keep");
    if constexpr (has<TestType, laws::counters>) CHECK(s.template counter<number>("user:counter") == 1);

    CHECK(s.template erase_all<text>() == 20);
    CHECK_FALSE(s.template exists<text>("host:0"));
    CHECK(s.template get<other_text>("user:1") == "keep");
}

}  // namespace laws
