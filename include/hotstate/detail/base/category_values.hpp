// hotstate/detail/base/category_values.hpp: what every call on a key category
// checks and does before and after its backend does the work, written once
// for the stores (blocking and asynchronous) and the pipelines' operations:
// the registration and value-type checks (compile time), expiries, encoding
// values with the category's codec and decoding them, and the start of every
// message about an operation.
#pragma once

#include <charconv>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <hotstate/category.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/codec.hpp>
#include <hotstate/error.hpp>

namespace hotstate {

namespace detail {

/// "hotstate: <operation> on category '<name>': ", the start of every message
/// about an operation of category `C` (the store's and the pipelines').
template <class C>
std::string operation_context(std::string_view operation) {
    std::string text = "hotstate: ";
    text.append(operation).append(" on category '").append(C::name).append("': ");
    return text;
}

/// `C` is a key category and one of `Registered` (checked at compile time):
/// what every call of a store, synchronous or not, checks first.
template <class C, class... Registered>
constexpr void check_registered() {
    static_assert(KeyCategory<C>, "hotstate: the first template argument must be a key category "
                                  "(a type derived from hotstate::category<Id, \"name\", ...>)");
    static_assert(is_one_of<C, Registered...>,
                  "hotstate: this key category is not registered with this store; add it to the "
                  "store's category list");
}

/// `C` can count (an integer value type; checked at compile time).
template <class C>
constexpr void check_counter_category() {
    static_assert(CounterCategory<C>,
                  "hotstate: counters and rate limits need a category whose value type is an integer");
}

/// The value of `V` can be stored under category `C` (checked at compile time).
template <class C, class V>
constexpr void check_value_type() {
    using value_type = typename C::value_type;
    if constexpr (std::is_same_v<value_type, std::string>) {
        static_assert(std::is_convertible_v<const V&, std::string_view>,
                      "hotstate: wrong value type: this category stores bytes (std::string)");
    } else {
        static_assert(std::is_same_v<std::remove_cvref_t<V>, value_type> ||
                          (std::is_integral_v<value_type> && std::is_integral_v<V> && !std::is_same_v<V, bool>),
                      "hotstate: wrong value type: the value does not match the category's declared value type");
    }
}

/// A TTL or expiry as the backends take it (0 ms: none); a non-positive one is refused.
template <class C>
std::chrono::milliseconds expiry_of(const ttl& expiry, std::string_view operation) {
    if (!expiry) return std::chrono::milliseconds{0};
    if (expiry->count() <= 0)
        throw error(errc::invalid_argument, operation_context<C>(operation) + "expiry must be positive");
    return *expiry;
}

/// Hands the value's encoded bytes to `use`: bytes go through uncopied,
/// integers are formatted on the stack, other types through their codec.
template <class C, class V, class F>
void with_encoded_value(const V& value, F&& use) {
    using value_type = typename C::value_type;
    if constexpr (std::is_same_v<value_type, std::string>) {
        use(std::string_view(value));
    } else if constexpr (std::is_integral_v<value_type>) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, static_cast<value_type>(value)).ptr;
        use(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    } else {
        std::string out;
        codec<value_type>::encode(static_cast<const value_type&>(value), out);
        use(std::string_view(out));
    }
}

/// Bytes are constructed in place in the result; other types via their codec.
template <class C>
void decode_into(std::string_view raw, std::optional<typename C::value_type>& result) {
    if constexpr (std::is_same_v<typename C::value_type, std::string>)
        result.emplace(raw);
    else
        result.emplace(codec<typename C::value_type>::decode(raw));
}

}  // namespace detail

}  // namespace hotstate
