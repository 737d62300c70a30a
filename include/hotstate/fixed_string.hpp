#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace hotstate {

/// A string usable as a template argument: `category<1, "oauth">`.
template <std::size_t N>
struct fixed_string {
    char data[N]{};

    constexpr fixed_string(const char (&text)[N]) noexcept { std::copy_n(text, N, data); }

    [[nodiscard]] constexpr std::string_view view() const noexcept { return {data, N - 1}; }
    [[nodiscard]] static constexpr std::size_t size() noexcept { return N - 1; }

    constexpr bool operator==(const fixed_string&) const = default;
};

}  // namespace hotstate
