// hotstate/detail/base/field_traits.hpp: what kind of config field a type is, for the
// code that walks Hana-reflected config structs (printing in print_fields.hpp,
// JSON in detail/config/reflect.hpp): one definition for both.
#pragma once

#include <chrono>
#include <optional>
#include <type_traits>
#include <vector>

namespace hotstate::detail::field_traits {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_duration : std::false_type {};
template <class R, class P>
struct is_duration<std::chrono::duration<R, P>> : std::true_type {};

}  // namespace hotstate::detail::field_traits
