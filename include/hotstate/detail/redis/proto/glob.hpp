// hotstate/detail/redis/proto/glob.hpp: a binary prefix as a SCAN MATCH pattern.
#pragma once

#include <string>
#include <string_view>

namespace hotstate::detail::redis {

/// The MATCH pattern that matches exactly the keys starting with `prefix`:
/// every glob metacharacter (* ? [ ] \) is backslash-escaped, other bytes
/// (NUL and high bytes included) pass through, and a `*` is appended.
[[nodiscard]] inline std::string glob_prefix_pattern(std::string_view prefix) {
    std::string pattern;
    pattern.reserve(prefix.size() * 2 + 1);
    for (const char c : prefix) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' || c == '^' || c == '-') pattern.push_back('\\');
        pattern.push_back(c);
    }
    pattern.push_back('*');
    return pattern;
}

}  // namespace hotstate::detail::redis
