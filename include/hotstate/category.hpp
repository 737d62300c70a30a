// hotstate/category.hpp: key categories, the compile-time tags every key belongs to.
//
//   struct oauth_code : hotstate::category<1, "oauth"> {};                 // bytes
//   struct failed_logins : hotstate::category<40, "fail2ban", std::int64_t> {};
//   struct session : hotstate::category<41, "session", session_info> {};  // Hana struct
//
// The id is the one prefix byte every key of the category starts with (the
// seeds' layout); the name appears in error messages. A store lists the
// categories it may touch; two with one id, or a call with an unlisted one,
// fail to compile.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include <hotstate/codec.hpp>
#include <hotstate/fixed_string.hpp>

namespace hotstate {

/// How a category's keys are laid out on the server.
enum class key_layout : std::uint8_t {
    /// prefix byte + key bytes: byte-compatible with the seeds' system (default).
    plain,
    /// `{` prefix byte + key bytes `}`: a Redis Cluster hash tag, so every
    /// companion key of one logical key lands in one slot.
    hash_tagged,
};

/// Per-category options: `category<23, "task-lock", bytes, hotstate::hash_tagged>`
/// or `category_options{.layout = key_layout::hash_tagged}`.
struct category_options {
    key_layout layout = key_layout::plain;
};

/// Options for a category whose keys carry a Redis Cluster hash tag.
inline constexpr category_options hash_tagged{.layout = key_layout::hash_tagged};

namespace detail {
struct category_base {};
}  // namespace detail

/// Base of every key category.
/// @tparam Id      prefix byte, 0..255, unique within a store
/// @tparam Name    human-readable name used in error messages
/// @tparam Value   value type of `get`/`set` (bytes, an integer, a Hana struct, or anything with a codec)
/// @tparam Options layout options
template <unsigned Id, fixed_string Name, class Value = bytes, category_options Options = category_options{}>
struct category : detail::category_base {
    static_assert(Id <= 255, "hotstate: a category id is its one prefix byte, so it must be in 0..255");
    static_assert(Encodable<Value>,
                  "hotstate: the category's value type has no codec; use bytes, an integer, a Hana "
                  "struct, or specialise hotstate::codec<T>");
    static constexpr std::uint8_t id = static_cast<std::uint8_t>(Id);
    static constexpr std::string_view name = Name.view();
    static constexpr key_layout layout = Options.layout;
    using value_type = Value;
};

/// A type derived from hotstate::category<...>.
template <class C>
concept KeyCategory = std::derived_from<C, detail::category_base> && requires {
    { C::id } -> std::convertible_to<std::uint8_t>;
    { C::name } -> std::convertible_to<std::string_view>;
    typename C::value_type;
};

/// A category whose values are integers, usable as a counter.
template <class C>
concept CounterCategory = KeyCategory<C> && std::is_integral_v<typename C::value_type> &&
                          !std::is_same_v<typename C::value_type, bool>;

namespace detail {

/// The I-th type of a pack.
template <std::size_t I, class First, class... Rest>
struct nth_category {
    using type = typename nth_category<I - 1, Rest...>::type;
};
template <class First, class... Rest>
struct nth_category<0, First, Rest...> {
    using type = First;
};

/// Positions of the first two categories that share an id; {n, n} when none do.
struct id_clash {
    std::size_t first;
    std::size_t second;
};

template <class... Categories>
consteval id_clash first_id_clash() {
    constexpr std::uint8_t ids[] = {Categories::id..., 0};
    for (std::size_t i = 0; i < sizeof...(Categories); ++i)
        for (std::size_t j = i + 1; j < sizeof...(Categories); ++j)
            if (ids[i] == ids[j]) return {i, j};
    return {sizeof...(Categories), sizeof...(Categories)};
}

/// Instantiated only for two categories of one store that share a prefix id:
/// a static_assert message cannot name types, but the compiler's "in
/// instantiation of" line for this template does, so the error names both.
template <class First, class Second>
struct categories_share_a_prefix_id {
    static_assert(First::id != Second::id,
                  "hotstate: two key categories of this store share one prefix id (the compiler names the two "
                  "where it reports instantiating categories_share_a_prefix_id<First, Second>); every category "
                  "needs its own id (0..255)");
    // the static_assert above is the error; true spares a second, vaguer one at the store
    static constexpr bool value = true;
};

/// Whether every category has its own id; on a clash, a compile error names the pair.
template <class... Categories>
consteval bool ids_are_unique() {
    constexpr id_clash clash = first_id_clash<Categories...>();
    if constexpr (clash.first == sizeof...(Categories))
        return true;
    else
        return categories_share_a_prefix_id<typename nth_category<clash.first, Categories...>::type,
                                            typename nth_category<clash.second, Categories...>::type>::value;
}

template <class C, class... Categories>
inline constexpr bool is_one_of = (std::is_same_v<C, Categories> || ...);

}  // namespace detail
}  // namespace hotstate
