// hotstate/detail/config/text.hpp: the pure text work of the JSON configuration
// loader, with no JSON library: field-name spelling (snake_case to camelCase),
// duration strings ("10s", "250ms", at most 365d), "did you mean" suggestions,
// JSON paths as messages print them, finding where a path's value sits in the
// document (line and column), which nlohmann-json does not record, and
// finding a member name stated twice, which it keeps silently.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <hotstate/detail/base/text.hpp>

namespace hotstate::detail::config {

/// `pool_max_connections` -> `poolMaxConnections`: how a C++ field is spelled in JSON
/// unless the mapping table (json_names.hpp) says otherwise.
[[nodiscard]] inline std::string camel_case(std::string_view snake) {
    std::string out;
    out.reserve(snake.size());
    bool upper = false;
    for (const char c : snake) {
        if (c == '_') {
            upper = !out.empty();
            continue;
        }
        out.push_back(upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
        upper = false;
    }
    return out;
}

/// One step of a JSON path: an object member or an array index.
using path_step = std::variant<std::string, std::size_t>;
/// Where a value sits in the document, from the root.
using json_path = std::vector<path_step>;

/// `inMemoryStore.urls[2]`; "(document)" for the root.
[[nodiscard]] inline std::string path_text(const json_path& path) {
    std::string out;
    for (const auto& step : path) {
        if (const auto* name = std::get_if<std::string>(&step)) {
            if (!out.empty()) out.push_back('.');
            out.append(*name);
        } else {
            out.append("[").append(std::to_string(std::get<std::size_t>(step))).append("]");
        }
    }
    return out.empty() ? "(document)" : out;
}

/// A position in the document, both counted from 1 (column in bytes).
struct text_position {
    std::size_t line = 1;
    std::size_t column = 1;
};

/// The line and column of byte `offset` of `text`.
[[nodiscard]] inline text_position position_of(std::string_view text, std::size_t offset) noexcept {
    text_position at;
    offset = std::min(offset, text.size());
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++at.line;
            at.column = 1;
        } else {
            ++at.column;
        }
    }
    return at;
}

/// Walks a JSON text (already known to be valid) to find where a path's value
/// starts, so that errors found on the parsed tree can name a line and column.
class locator {
public:
    explicit locator(std::string_view text) noexcept : text_(text) {}

    /// Byte offset of the value at `path` (of its member name when `at_name`
    /// and the last step is a member); the deepest existing ancestor's when
    /// the path does not exist.
    [[nodiscard]] std::size_t find(const json_path& path, bool at_name = false) const {
        std::size_t at = skip_space(0);
        std::size_t found = at;
        for (std::size_t depth = 0; depth < path.size(); ++depth) {
            const bool last = depth + 1 == path.size();
            const auto next = step_into(at, path[depth], last && at_name);
            if (!next) return found;
            at = *next;
            found = at;
        }
        return found;
    }

    /// A member name stated twice in one object: where both are (byte offsets of the names).
    struct duplicate_key {
        json_path path;  ///< to the second one
        std::string name;
        std::size_t first = 0;
        std::size_t second = 0;
    };

    /// The first member name stated twice in one object, in document order;
    /// nullopt when there is none. The parser would keep the last silently,
    /// so a document with one says two things. Iterative (an explicit stack),
    /// so a deeply nested document cannot exhaust the call stack.
    [[nodiscard]] std::optional<duplicate_key> first_duplicate() const {
        struct frame {
            bool object = false;
            std::size_t index = 0;
            std::map<std::string, std::size_t, std::less<>> names{};
        };
        std::vector<frame> open;
        json_path path;
        std::size_t at = skip_space(0);
        // a member's name at `at`: its step on the path, `at` moved to its value
        const auto enter_member = [&]() -> std::optional<duplicate_key> {
            std::string name;
            const std::size_t name_at = at;
            at = skip_space(skip_string(at, &name));
            if (at < text_.size() && text_[at] == ':') at = skip_space(at + 1);
            path.emplace_back(name);
            const auto [seen, fresh] = open.back().names.emplace(name, name_at);
            if (!fresh) return duplicate_key{path, std::move(name), seen->second, name_at};
            return std::nullopt;
        };
        for (;;) {
            // `at` is the start of a value
            if (at >= text_.size()) return std::nullopt;
            const char c = text_[at];
            bool complete = true;
            if (c == '{' || c == '[') {
                const std::size_t inside = skip_space(at + 1);
                if (inside < text_.size() && text_[inside] == (c == '{' ? '}' : ']')) {
                    at = inside + 1;
                } else {
                    open.push_back(frame{.object = c == '{'});
                    at = inside;
                    if (c == '{') {
                        if (auto duplicate = enter_member()) return duplicate;
                    } else {
                        path.emplace_back(std::size_t{0});
                    }
                    complete = false;
                }
            } else {
                at = skip_value(at);
            }
            // a value ended: on to the next member or element, closing what ends
            while (complete) {
                if (open.empty()) return std::nullopt;
                path.pop_back();
                at = skip_space(at);
                if (at < text_.size() && text_[at] == ',') {
                    at = skip_space(at + 1);
                    if (open.back().object) {
                        if (auto duplicate = enter_member()) return duplicate;
                    } else {
                        path.emplace_back(++open.back().index);
                    }
                    complete = false;
                } else {
                    ++at;  // '}' or ']'
                    open.pop_back();
                    if (open.empty()) return std::nullopt;
                }
            }
        }
    }

private:
    [[nodiscard]] std::size_t skip_space(std::size_t at) const noexcept {
        while (at < text_.size() && (text_[at] == ' ' || text_[at] == '\t' || text_[at] == '\n' || text_[at] == '\r'))
            ++at;
        return at;
    }

    /// Past the string starting at `at` (a '"'); its text, escapes decoded
    /// (\uXXXX to UTF-8, surrogate pairs joined), in `decoded` when given, so
    /// "ca\u0046ile" is the name "caFile" as the parser reads it.
    std::size_t skip_string(std::size_t at, std::string* decoded = nullptr) const {
        ++at;
        while (at < text_.size() && text_[at] != '"') {
            if (text_[at] == '\\' && at + 1 < text_.size()) {
                const char e = text_[at + 1];
                if (e == 'u') {
                    std::uint32_t code = hex4(at + 2);
                    at += 6;
                    if (code >= 0xD800 && code <= 0xDBFF && at + 1 < text_.size() && text_[at] == '\\' && text_[at + 1] == 'u') {
                        const std::uint32_t low = hex4(at + 2);
                        if (low >= 0xDC00 && low <= 0xDFFF) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            at += 6;
                        }
                    }
                    if (decoded) append_utf8(*decoded, code);
                    continue;
                }
                if (decoded) {
                    switch (e) {
                        case 'n': decoded->push_back('\n'); break;
                        case 't': decoded->push_back('\t'); break;
                        case 'r': decoded->push_back('\r'); break;
                        case 'b': decoded->push_back('\b'); break;
                        case 'f': decoded->push_back('\f'); break;
                        default: decoded->push_back(e);
                    }
                }
                at += 2;
                continue;
            }
            if (decoded) decoded->push_back(text_[at]);
            ++at;
        }
        return at + 1;
    }

    /// The four hex digits at `at` (0 where the text ends early: it was parsed already).
    [[nodiscard]] std::uint32_t hex4(std::size_t at) const noexcept {
        std::uint32_t value = 0;
        for (std::size_t i = at; i < at + 4 && i < text_.size(); ++i) {
            const char c = text_[i];
            value = value * 16 + static_cast<std::uint32_t>(c >= '0' && c <= '9'   ? c - '0'
                                                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                                   : 0);
        }
        return value;
    }

    static void append_utf8(std::string& out, std::uint32_t code) {
        if (code < 0x80) {
            out.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (code >> 6)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else if (code < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (code >> 12)));
            out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (code >> 18)));
            out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        }
    }

    /// Past the value starting at `at`.
    std::size_t skip_value(std::size_t at) const {
        if (at >= text_.size()) return at;
        const char c = text_[at];
        if (c == '"') return skip_string(at);
        if (c == '{' || c == '[') {
            int depth = 0;
            while (at < text_.size()) {
                const char d = text_[at];
                if (d == '"') {
                    at = skip_string(at);
                    continue;
                }
                if (d == '{' || d == '[') ++depth;
                if (d == '}' || d == ']') {
                    if (--depth == 0) return at + 1;
                }
                ++at;
            }
            return at;
        }
        while (at < text_.size() && text_[at] != ',' && text_[at] != '}' && text_[at] != ']' && text_[at] != ' ' &&
               text_[at] != '\n' && text_[at] != '\r' && text_[at] != '\t')
            ++at;
        return at;
    }

    std::optional<std::size_t> step_into(std::size_t at, const path_step& step, bool at_name) const {
        if (at >= text_.size()) return std::nullopt;
        if (const auto* name = std::get_if<std::string>(&step)) {
            if (text_[at] != '{') return std::nullopt;
            std::optional<std::size_t> hit;
            at = skip_space(at + 1);
            while (at < text_.size() && text_[at] == '"') {
                std::string key;
                const std::size_t key_at = at;
                at = skip_space(skip_string(at, &key));
                if (at >= text_.size() || text_[at] != ':') return hit;
                at = skip_space(at + 1);
                if (key == *name) hit = at_name ? key_at : at;  // a duplicate is refused at parse (first_duplicate)
                at = skip_space(skip_value(at));
                if (at < text_.size() && text_[at] == ',') at = skip_space(at + 1);
            }
            return hit;
        }
        const std::size_t index = std::get<std::size_t>(step);
        if (text_[at] != '[') return std::nullopt;
        at = skip_space(at + 1);
        for (std::size_t i = 0; at < text_.size() && text_[at] != ']'; ++i) {
            if (i == index) return at;
            at = skip_space(skip_value(at));
            if (at < text_.size() && text_[at] == ',') at = skip_space(at + 1);
        }
        return std::nullopt;
    }

    std::string_view text_;
};

/// Levenshtein distance, for "did you mean".
[[nodiscard]] inline std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
            const std::size_t substitution = diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
            diagonal = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
        }
    }
    return row[b.size()];
}

/// The known name closest to `unknown`, when it is close enough to be a typo
/// (at most a third of its length, and at least 2, edits away).
[[nodiscard]] inline std::optional<std::string> closest_name(std::string_view unknown,
                                                             const std::vector<std::string>& known) {
    std::optional<std::string> best;
    std::size_t best_distance = std::max<std::size_t>(2, unknown.size() / 3) + 1;
    for (const auto& name : known) {
        const std::size_t distance = edit_distance(unknown, name);
        if (distance < best_distance) {
            best_distance = distance;
            best = name;
        }
    }
    return best;
}

/// The duration in the largest unit that states it exactly ("10s", "250ms", "0s").
[[nodiscard]] inline std::string format_duration(std::chrono::milliseconds value) {
    const std::int64_t ms = value.count();
    if (ms == 0) return "0s";
    constexpr std::pair<std::int64_t, std::string_view> units[] = {
        {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
    for (const auto& [scale, name] : units)
        if (ms % scale == 0) return std::to_string(ms / scale) + std::string(name);
    return std::to_string(ms) + "ms";
}

/// The longest duration a configuration may state. Every duration becomes
/// a deadline (now + duration) somewhere, and a year keeps that sum far from
/// overflowing (106752 days of nanoseconds do) while no timeout, lease or
/// interval hotstate reads has a use for more.
inline constexpr std::chrono::milliseconds max_duration{std::chrono::hours{24 * 365}};

/// A duration string read, or why it is not one.
struct duration_parse {
    std::optional<std::chrono::milliseconds> value;
    std::string problem;  ///< when !value
};

/// Reads "250ms", "10s", "5m", "2h", "1d" (digits, then the unit, nothing
/// between): Stalwart's spelling of durations. "0" alone is zero. No sign, no
/// fraction, no space: "10 s", "-1s", "1.5s" and "10x" are refused with the
/// reason, and so is anything longer than max_duration (365d).
[[nodiscard]] inline duration_parse parse_duration(std::string_view text) {
    duration_parse out;
    if (text == "0") {
        out.value = std::chrono::milliseconds{0};
        return out;
    }
    if (!text.empty() && text.front() == '-') {
        out.problem = "must not be negative";
        return out;
    }
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) {
        out.problem = "expected digits followed by a unit (ms, s, m, h, d), e.g. \"10s\"";
        return out;
    }
    const std::string_view unit = text.substr(digits);
    std::int64_t scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    if (scale == 0) {
        if (unit.empty())
            out.problem = "missing unit (ms, s, m, h, d), e.g. \"10s\"";
        else if (unit.front() == ' ' || unit.front() == '\t')
            out.problem = "no space is allowed between the number and the unit";
        else if (unit.front() == '.')
            out.problem = "expected whole units; write \"1500ms\" rather than \"1.5s\"";
        else
            out.problem = "unknown unit (expected ms, s, m, h or d)";
        return out;
    }
    // more digits than an int64 holds are longer than the maximum too
    const auto count = parse_decimal<std::int64_t>(text.substr(0, digits));
    if (!count || *count > max_duration.count() / scale) {
        out.problem = "longer than the maximum, " + format_duration(max_duration);
        return out;
    }
    out.value = std::chrono::milliseconds{*count * scale};
    return out;
}

}  // namespace hotstate::detail::config
