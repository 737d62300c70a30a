// The laws of LookupBackend: membership sets and key-value maps under one key.
// Included by laws/store.hpp.
#pragma once

#include <string>

#include "laws/store_support.hpp"

namespace laws {

HOTSTATE_STORE_LAW("lookups: sets and maps", "[laws][lookups]", lookups) {

    CHECK_FALSE(s.template lookup_contains<list>("blocked-domains", "spam.example"));
    CHECK(s.template lookup_add<list>("blocked-domains", "spam.example"));
    CHECK_FALSE(s.template lookup_add<list>("blocked-domains", "spam.example"));
    CHECK(s.template lookup_add<list>("blocked-domains", "junk.example"));
    CHECK(s.template lookup_contains<list>("blocked-domains", "spam.example"));
    CHECK_FALSE(s.template lookup_contains<list>("trusted-domains", "spam.example"));
    CHECK(s.template lookup_remove<list>("blocked-domains", "spam.example"));
    CHECK_FALSE(s.template lookup_remove<list>("blocked-domains", "spam.example"));
    CHECK_FALSE(s.template lookup_contains<list>("blocked-domains", "spam.example"));
    CHECK(s.template lookup_contains<list>("blocked-domains", "junk.example"));

    CHECK_FALSE(s.template lookup_get<list>("redirectors", "t.co").has_value());
    s.template lookup_set<list>("redirectors", "t.co", "twitter");
    s.template lookup_set<list>("redirectors", std::string("bin\0", 4), std::string("v\0", 2));
    CHECK(s.template lookup_get<list>("redirectors", "t.co") == "twitter");
    CHECK(s.template lookup_get<list>("redirectors", std::string("bin\0", 4)) == std::string("v\0", 2));
    s.template lookup_set<list>("redirectors", "t.co", "x");
    CHECK(s.template lookup_get<list>("redirectors", "t.co") == "x");
    CHECK(s.template lookup_erase<list>("redirectors", "t.co"));
    CHECK_FALSE(s.template lookup_erase<list>("redirectors", "t.co"));
    CHECK_FALSE(s.template lookup_get<list>("redirectors", "t.co").has_value());

    SECTION("a typed map value round-trips through its codec") {
        s.template lookup_set<record>("accounts", "alice", login_record{"alice@example.org", 2, false, std::nullopt});
        const auto read = s.template lookup_get<record>("accounts", "alice");
        REQUIRE(read.has_value());
        CHECK(read->account == "alice@example.org");
        CHECK(read->attempts == 2);
        CHECK_FALSE(read->reason.has_value());
    }
}

}  // namespace laws
