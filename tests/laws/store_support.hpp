// What the store laws share: their key categories, the store they make, and
// the few helpers that let one law run on hotstate::store and on the
// asynchronous front end alike (laws/async_front.hpp). Included by laws/store.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <boost/hana/define_struct.hpp>
#include <catch2/catch.hpp>

#include <hotstate/store.hpp>

#include "laws/model.hpp"
#include "support/errors.hpp"
#include "support/eventually.hpp"

namespace laws {

using namespace std::chrono_literals;
using hotstate::testing::eventually;

struct login_record {
    BOOST_HANA_DEFINE_STRUCT(login_record, (std::string, account), (std::int64_t, attempts), (bool, blocked),
                             (std::optional<std::string>, reason));
};

struct text : hotstate::category<200, "conf-text"> {};
struct number : hotstate::category<201, "conf-number", std::int64_t> {};
struct record : hotstate::category<202, "conf-record", login_record> {};
struct guard : hotstate::category<203, "conf-lock"> {};
struct tagged_guard : hotstate::category<204, "conf-lock-tagged", hotstate::bytes, hotstate::hash_tagged> {};
struct list : hotstate::category<205, "conf-lookup"> {};
struct limits : hotstate::category<206, "conf-rate", std::int64_t> {};
struct other_text : hotstate::category<207, "conf-other"> {};

/// The store every store law runs on: every category of the laws registered.
template <class F>
auto make_law_store(F& fixture) {
    return fixture.template make_store<text, number, record, guard, tagged_guard, list, limits, other_text>();
}

/// The models of this translation unit (hotstate_law_models) that state `Cap`.
template <class Cap>
using store_models = models_with<Cap, ::hotstate_law_models>;

/// How long to watch for something that must not happen: only backends that
/// expire in real time (a server) need to be watched at all.
template <class F>
std::chrono::milliseconds real_time_wait(const F&, std::chrono::milliseconds span) {
    return F::expires_in_real_time ? span : std::chrono::milliseconds{0};
}

/// Whether a lookup is a key of the key space, so that key/value operations on
/// its key meet it (wrong_type): true but for a fixture that says
/// `lookups_share_key_space = false` (memcached keeps one item per member).
template <class F>
constexpr bool lookups_share_key_space() {
    if constexpr (requires { F::lookups_share_key_space; }) return F::lookups_share_key_space;
    else return true;
}

inline std::string binary_key() { return std::string("bin\0key\xff\x01", 9); }

/// Whether `condition` holds: at once on a blocking store; on a front end whose
/// effects land after the call returns (a lock released by its destructor is
/// released in the background), once it has landed.
template <class S, class Condition>
bool settled(const S&, Condition&& condition) {
    if constexpr (requires { S::effects_land_later; }) return eventually(std::forward<Condition>(condition));
    else return condition();
}

using hotstate::testing::error_of;

}  // namespace laws

/// A store law: run for every model that states capability `Cap`, on a fresh
/// store with the laws' categories (`s`) made by the model (`fixture`).
#define HOTSTATE_STORE_LAW(Name, Tags, Cap) HOTSTATE_LAW_OVER(Name, Tags, ::laws::store_models<Cap>, ::laws::make_law_store)
