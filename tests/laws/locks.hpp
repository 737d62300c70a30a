// The laws of LockBackend: owner-token locks with leases and fencing tokens.
// Included by laws/store.hpp.
#pragma once

#include <optional>

#include "laws/store_support.hpp"

namespace laws {

HOTSTATE_STORE_LAW("locks: owner, lease, fencing token", "[laws][locks]", locks) {

    auto first = s.template try_lock<guard>("purge-account", 10min);
    REQUIRE(first.has_value());
    CHECK(first->held());
    CHECK(first->owner_token().size() == 32);
    CHECK_FALSE(s.template try_lock<guard>("purge-account", 10min).has_value());
    CHECK(s.template try_lock<guard>("another-task", 10min).has_value());

    SECTION("release frees it for the next owner, whose fencing token is larger") {
        const auto fence = first->fencing_token();
        CHECK(first->release());
        CHECK_FALSE(first->held());
        CHECK_FALSE(first->release());
        auto second = s.template try_lock<guard>("purge-account", 10min);
        REQUIRE(second.has_value());
        CHECK(second->fencing_token() > fence);
        CHECK(second->owner_token() != first->owner_token());
    }
    SECTION("the destructor releases") {
        first.reset();
        CHECK(settled(s, [&] { return s.template try_lock<guard>("purge-account", 10min).has_value(); }));
    }
    SECTION("extend keeps it for its owner") {
        CHECK(first->extend(20min));
        CHECK_FALSE(s.template try_lock<guard>("purge-account", 10min).has_value());
        CHECK_THROWS_AS(first->extend(0ms), hotstate::error);
    }
    SECTION("an expired lease: another owner takes over and the old one can neither release nor extend") {
        auto brief = s.template try_lock<tagged_guard>("queue-run", fixture.short_ttl());
        REQUIRE(brief.has_value());
        fixture.pass(fixture.short_ttl() + 1ms);
        decltype(brief) successor;
        CHECK(eventually([&] {
            successor = s.template try_lock<tagged_guard>("queue-run", 10min);
            return successor.has_value();
        }));
        REQUIRE(successor.has_value());
        CHECK(successor->fencing_token() > brief->fencing_token());
        CHECK_FALSE(brief->extend(10min));
        CHECK_FALSE(brief->release());
        CHECK_FALSE(s.template try_lock<tagged_guard>("queue-run", 10min).has_value());
    }
    SECTION("fencing tokens increase across many acquisitions") {
        std::uint64_t last = 0;
        for (int i = 0; i < 20; ++i) {
            decltype(first) held;  // the last one's destructor released the lock
            REQUIRE(settled(s, [&] {
                held = s.template try_lock<guard>("fenced", 10min);
                return held.has_value();
            }));
            CHECK(held->fencing_token() > last);
            last = held->fencing_token();
        }
    }
    SECTION("a non-positive lease is refused") {
        CHECK_THROWS_AS(s.template try_lock<guard>("x", 0ms), hotstate::error);
    }
}

}  // namespace laws
