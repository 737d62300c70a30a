// hotstate/detail/config/reflect.hpp: JSON <-> config struct, driven by the
// structs' Hana field lists.
//
// Every config struct is a Hana Struct, so this file walks its fields and
// needs no per-struct code. Per-struct knowledge lives in three small traits
// that the struct's own mapping file specialises (detail/config/redis_fields.hpp,
// store_fields.hpp):
//   field_names       one global table of C++ name -> JSON name where the
//                     JSON spelling is not simply the camelCase of the C++ name
//   flattened<T>      a nested struct (node_settings, retry_policy) whose
//                     fields sit in the parent's JSON object, as Stalwart's
//                     flat "timeout", "poolMaxConnections", ... do
//   required<T>       the fields a document must state (a server address)
//   checks<T>         value rules beyond the type (a URL that parses, a pool
//                     of at least one connection), reported at the field
// Values by type: bool; integers (range-checked against the field's type);
// floating-point numbers;
// std::string; hotstate::secret (a literal, {"@type": "Value", "secret": ...},
// {"@type": "EnvironmentVariable", "variable": ...} or {"@type": "File",
// "path": ...}); std::chrono durations as "10s" / "250ms" strings; enums by
// name (enum_names<E>); std::optional (absent or null: empty); std::vector;
// nested Hana Structs as objects.
//
// Errors are hotstate::error(errc::configuration) naming the JSON path and its
// line and column. No message quotes a secret's value: secrets are never
// shown, and other values are shown only where they are an enum or duration
// spelling (bounded, escaped).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>

#include <nlohmann/json.hpp>

#include <hotstate/detail/config/files.hpp>
#include <hotstate/detail/config/text.hpp>
#include <hotstate/detail/base/field_traits.hpp>
#include <hotstate/detail/redis/proto/url_text.hpp>
#include <hotstate/error.hpp>
#include <hotstate/secret.hpp>

namespace hotstate::detail::config {

/// The JSON value type: member order kept, so errors come in document order.
using json = nlohmann::ordered_json;

/// C++ field name -> JSON name, where the JSON spelling is not the camelCase
/// of the C++ name. Adding a renamed field is one line here.
inline constexpr std::pair<std::string_view, std::string_view> field_names[] = {
    {"protocol", "protocolVersion"},
};

/// The JSON name of C++ field `name`.
[[nodiscard]] inline std::string json_name(std::string_view name) {
    for (const auto& [cpp, spelled] : field_names)
        if (cpp == name) return std::string(spelled);
    return camel_case(name);
}

/// A nested struct whose fields are written into its parent's object.
template <class T>
inline constexpr bool flattened = false;

/// The C++ names of the fields a document must state.
template <class T>
struct required {
    static constexpr std::array<std::string_view, 0> names{};
};

/// A whole-number field's stated range, where narrower than its type's
/// (a pool of 1..10000 connections rather than any size_t).
struct field_range {
    std::string_view name;  ///< the C++ field name
    std::int64_t min = 0;
    std::uint64_t max = 0;
};

/// The stated ranges of T's whole-number fields; specialised per struct.
template <class T>
struct ranges {
    static constexpr std::array<field_range, 0> fields{};
};

/// The stated range of T's field `name`, when it has one.
template <class T>
[[nodiscard]] constexpr std::optional<field_range> range_of(std::string_view name) {
    for (const auto& range : ranges<T>::fields)
        if (range.name == name) return range;
    return std::nullopt;
}

/// The JSON spellings of an enum's values; specialised per enum.
template <class E>
struct enum_names;

class reader;

/// Value rules of `T` beyond its field types; specialised per struct.
template <class T>
struct checks {
    static void run(const T&, const reader&, const json_path&) {}
};

/// How to_json writes secrets.
enum class secret_output : std::uint8_t {
    masked,    ///< as the string "***": for logs and `hotstate-doctor --json`
    revealed,  ///< as {"@type": "Value", "secret": ...}: a document that loads back
};

namespace traits = ::hotstate::detail::field_traits;

/// Shows user text in a message: bounded, non-printable bytes escaped.
[[nodiscard]] inline std::string shown_text(std::string_view text) {
    return "'" + ::hotstate::detail::redis::url_text::quote(text, 64, "'") + "'";
}

/// The first line of every configuration error.
inline constexpr std::string_view error_prefix = "hotstate: configuration: ";

/// "hotstate: configuration: [<origin>: ]<path> (line L, column C): <what>".
[[nodiscard]] inline std::string located_message(const std::string& origin, const json_path& path, text_position at,
                                                 std::string_view what) {
    std::string message(error_prefix);
    if (!origin.empty()) message.append(origin).append(": ");
    message.append(path_text(path))
        .append(" (line ")
        .append(std::to_string(at.line))
        .append(", column ")
        .append(std::to_string(at.column))
        .append("): ")
        .append(what);
    return message;
}

/// Reads one parsed document, turning every problem into an error that names
/// the JSON path and its line and column in the text.
class reader {
public:
    /// `text` must outlive the reader; `origin` (a file name, or empty) starts
    /// each message; `check_files`: the files a document names (TLS) must be
    /// readable here (json_load_options::check_files).
    reader(std::string_view text, std::string origin = {}, bool check_files = true)
        : text_(text), locate_(text), origin_(std::move(origin)), check_files_(check_files) {}

    /// Throws errc::configuration: "<path> (line L, column C): <what>".
    /// `at_name`: point at the member's name rather than its value (unknown fields).
    [[noreturn]] void fail(const json_path& path, std::string_view what, bool at_name = false) const {
        throw error(errc::configuration,
                    located_message(origin_, path, position_of(text_, locate_.find(path, at_name)), what));
    }

    /// Whether the files a document names are checked (see the constructor).
    [[nodiscard]] bool check_files() const noexcept { return check_files_; }

    /// Reads `j` into `out` (any supported field type).
    template <class T>
    void read(T& out, const json& j, json_path& path) const {
        if constexpr (std::is_same_v<T, bool>) {
            if (!j.is_boolean()) fail(path, "expected true or false, got " + kind(j));
            out = j.get<bool>();
        } else if constexpr (std::is_same_v<T, secret>) {
            out = read_secret(j, path);
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (!j.is_string()) fail(path, "expected a string, got " + kind(j));
            out = j.get<std::string>();
        } else if constexpr (traits::is_duration<T>::value) {
            if (!j.is_string()) fail(path, "expected a duration such as \"10s\" or \"250ms\", got " + kind(j));
            const auto text = j.get<std::string>();
            const duration_parse parsed = parse_duration(text);
            if (!parsed.value) fail(path, "bad duration " + shown_text(text) + ": " + parsed.problem);
            if (*parsed.value > std::chrono::duration_cast<std::chrono::milliseconds>(T::max()))
                fail(path, "bad duration " + shown_text(text) + ": too large");
            out = std::chrono::duration_cast<T>(*parsed.value);
        } else if constexpr (std::is_enum_v<T>) {
            std::string allowed;
            for (const auto& [value, name] : enum_names<T>::values) allowed.append(allowed.empty() ? "" : ", ").append(name);
            if (!j.is_string()) fail(path, "expected one of " + allowed + ", got " + kind(j));
            const auto text = j.get<std::string>();
            for (const auto& [value, name] : enum_names<T>::values) {
                if (name == text) {
                    out = value;
                    return;
                }
            }
            fail(path, "unknown value " + shown_text(text) + " (expected one of " + allowed + ")");
        } else if constexpr (std::is_floating_point_v<T>) {
            if (!j.is_number()) fail(path, "expected a number, got " + kind(j));
            out = j.get<T>();
        } else if constexpr (std::is_integral_v<T>) {
            read_integer(out, j, path);
        } else if constexpr (traits::is_optional<T>::value) {
            if (j.is_null()) {
                out.reset();
                return;
            }
            read(out.emplace(), j, path);
        } else if constexpr (traits::is_vector<T>::value) {
            if (!j.is_array()) fail(path, "expected an array, got " + kind(j));
            out.clear();
            out.resize(j.size());
            for (std::size_t i = 0; i < j.size(); ++i) {
                path.emplace_back(i);
                read(out[i], j[i], path);
                path.pop_back();
            }
        } else {
            static_assert(boost::hana::Struct<T>::value, "hotstate: a config field of a type the JSON loader cannot read");
            read_object(out, j, path, {});
        }
    }

    /// Reads the object `j` into the Hana Struct `out`; `extra` are member
    /// names the caller handles (such as "@type").
    template <class T>
    void read_object(T& out, const json& j, json_path& path, const std::vector<std::string>& extra) const {
        if (!j.is_object()) fail(path, "expected an object, got " + kind(j));
        std::vector<std::string> known = extra;
        collect_names<T>(known);
        for (const auto& [key, value] : j.items()) {
            if (std::find(known.begin(), known.end(), key) != known.end()) continue;
            std::vector<std::string> candidates(known.begin() + static_cast<std::ptrdiff_t>(extra.size()), known.end());
            std::string what = "unknown field " + shown_text(key);
            if (const auto suggestion = closest_name(key, candidates)) what += "; did you mean '" + *suggestion + "'?";
            path.emplace_back(key);
            fail(path, what, true);
        }
        read_fields(out, j, path);
    }

    /// Every JSON name `T` reads, flattened structs' included.
    template <class T>
    static void collect_names(std::vector<std::string>& out) {
        boost::hana::for_each(boost::hana::accessors<T>(), [&](auto field) {
            using member = std::remove_cvref_t<decltype(boost::hana::second(field)(std::declval<T&>()))>;
            if constexpr (flattened<member>)
                collect_names<member>(out);
            else
                out.push_back(json_name(boost::hana::to<const char*>(boost::hana::first(field))));
        });
    }

    /// The object a loader reads: `document` itself, or its field `member`
    /// (appended to `path`) when one is named.
    [[nodiscard]] const json& member_or_whole(const json& document, const std::string& member, json_path& path) const {
        if (member.empty()) return document;
        if (!document.is_object()) fail(path, "expected an object, got " + kind(document));
        const auto found = document.find(member);
        if (found == document.end()) fail(path, "missing required field " + shown_text(member));
        path.emplace_back(member);
        return *found;
    }

    /// "a string", "a number", ...: what a value is, never what it holds.
    [[nodiscard]] static std::string kind(const json& j) {
        if (j.is_number_float()) return "a fractional number";
        if (j.is_number()) return "a number";
        if (j.is_string()) return "a string";
        if (j.is_boolean()) return "a boolean";
        if (j.is_null()) return "null";
        if (j.is_object()) return "an object";
        return "an array";
    }

private:
    template <class T>
    void read_fields(T& out, const json& j, json_path& path) const {
        boost::hana::for_each(boost::hana::accessors<T>(), [&](auto field) {
            auto& member = boost::hana::second(field)(out);
            using member_type = std::remove_cvref_t<decltype(member)>;
            const std::string_view cpp_name = boost::hana::to<const char*>(boost::hana::first(field));
            if constexpr (flattened<member_type>) {
                read_fields(member, j, path);
            } else {
                const std::string name = json_name(cpp_name);
                const auto found = j.find(name);
                if (found == j.end()) {
                    for (const auto must : required<T>::names)
                        if (must == cpp_name) fail(path, "missing required field '" + name + "'");
                    return;
                }
                path.emplace_back(name);
                if constexpr (std::is_integral_v<member_type> && !std::is_same_v<member_type, bool>)
                    read_integer(member, *found, path, range_of<T>(cpp_name));
                else
                    read(member, *found, path);
                path.pop_back();
            }
        });
        checks<T>::run(out, *this, path);
    }

    /// A whole number in the field's stated range (else its type's), however
    /// JSON spells it (1000, 1e3); every value outside gets the one message
    /// that states the range.
    template <class T>
    void read_integer(T& out, const json& j, const json_path& path, std::optional<field_range> stated = std::nullopt) const {
        using limits = std::numeric_limits<T>;
        const std::int64_t low = stated ? stated->min : static_cast<std::int64_t>(limits::min());
        const std::uint64_t high = stated ? stated->max : static_cast<std::uint64_t>(limits::max());
        const auto refuse = [&] {
            fail(path, "must be a whole number in " + std::to_string(low) + ".." + std::to_string(high) + ", got " +
                           (j.is_number() ? j.dump() : kind(j)));
        };
        std::optional<std::uint64_t> positive;  // the value when >= 0
        std::optional<std::int64_t> negative;   // the value when < 0
        if (j.is_number_unsigned()) {
            positive = j.get<std::uint64_t>();
        } else if (j.is_number_integer()) {
            const auto value = j.get<std::int64_t>();
            if (value >= 0) positive = static_cast<std::uint64_t>(value);
            else negative = value;
        } else if (j.is_number_float()) {
            const double value = j.get<double>();
            // 2^64 and -2^63 are exact doubles: the bounds of what converts
            if (value == std::floor(value) && value >= 0 && value < 18446744073709551616.0)
                positive = static_cast<std::uint64_t>(value);
            else if (value == std::floor(value) && value < 0 && value >= -9223372036854775808.0)
                negative = static_cast<std::int64_t>(value);
        }
        if (positive && (low <= 0 || *positive >= static_cast<std::uint64_t>(low)) && *positive <= high) {
            out = static_cast<T>(*positive);
            return;
        }
        if (negative && *negative >= low) {
            out = static_cast<T>(*negative);
            return;
        }
        refuse();
    }

    /// A literal, or {"@type": "Value" | "EnvironmentVariable" | "File", ...}.
    /// The value is never part of a message.
    secret read_secret(const json& j, json_path& path) const {
        if (j.is_string()) return secret(j.get<std::string>());
        const std::string forms =
            "a string, or an object with \"@type\" Value (\"secret\"), EnvironmentVariable (\"variable\") or File "
            "(\"path\")";
        if (!j.is_object()) fail(path, "expected a secret: " + forms + "; got " + kind(j));
        const auto type = j.find("@type");
        if (type == j.end() || !type->is_string()) fail(path, "expected a secret: " + forms);
        const std::string type_name = type->get<std::string>();
        std::string member;
        if (type_name == "Value") member = "secret";
        else if (type_name == "EnvironmentVariable") member = "variable";
        else if (type_name == "File") member = "path";
        else {
            path.emplace_back("@type");
            fail(path, "unknown secret type " + shown_text(type_name) + " (expected Value, EnvironmentVariable or File)");
        }
        for (const auto& [key, value] : j.items()) {
            if (key == "@type" || key == member) continue;
            std::string what = "unknown field " + shown_text(key);
            if (edit_distance(key, member) <= 2) what += "; did you mean '" + member + "'?";
            path.emplace_back(key);
            fail(path, what, true);
        }
        const auto field = j.find(member);
        if (field == j.end()) fail(path, "missing required field '" + member + "'");
        path.emplace_back(member);
        if (!field->is_string()) fail(path, "expected a string, got " + kind(*field));
        const std::string text = field->get<std::string>();
        if (type_name == "Value") {
            path.pop_back();
            return secret(text);
        }
        if (type_name == "EnvironmentVariable") {
            const char* value = std::getenv(text.c_str());
            if (value == nullptr) fail(path, "environment variable " + shown_text(text) + " is not set");
            path.pop_back();
            return secret(std::string(value));
        }
        auto read = read_bounded(text);
        if (read.too_large)
            fail(path, "the secret file " + shown_path(text) + " holds more than " + std::to_string(max_document_bytes) +
                           " bytes (1 MiB), more than any secret");
        if (!read.content) fail(path, "cannot read the secret file " + shown_path(text) + ": " + read.reason);
        std::string content = std::move(*read.content);
        // files written by editors and `echo` end in a newline that is no part of the password
        if (!content.empty() && content.back() == '\n') content.pop_back();
        if (!content.empty() && content.back() == '\r') content.pop_back();
        path.pop_back();
        return secret(std::move(content));
    }

    std::string_view text_;
    locator locate_;
    std::string origin_;
    bool check_files_ = true;
};

/// Writes one value as the reader reads it back.
template <class T>
[[nodiscard]] json write_value(const T& value, secret_output secrets);

/// Writes the fields of the Hana Struct `value` into the object `out`.
template <class T>
void write_fields(json& out, const T& value, secret_output secrets) {
    boost::hana::for_each(boost::hana::accessors<T>(), [&](auto field) {
        const auto& member = boost::hana::second(field)(value);
        using member_type = std::remove_cvref_t<decltype(member)>;
        if constexpr (flattened<member_type>) {
            write_fields(out, member, secrets);
        } else {
            const std::string name = json_name(boost::hana::to<const char*>(boost::hana::first(field)));
            if constexpr (traits::is_optional<member_type>::value) {
                if (member) out[name] = write_value(*member, secrets);
            } else {
                out[name] = write_value(member, secrets);
            }
        }
    });
}

template <class T>
json write_value(const T& value, secret_output secrets) {
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string> || std::is_arithmetic_v<T>) {
        return json(value);
    } else if constexpr (std::is_same_v<T, secret>) {
        if (secrets == secret_output::masked) return json(std::string(to_string(value)));
        return json{{"@type", "Value"}, {"secret", value.reveal()}};
    } else if constexpr (traits::is_duration<T>::value) {
        return json(format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(value)));
    } else if constexpr (std::is_enum_v<T>) {
        for (const auto& [item, name] : enum_names<T>::values)
            if (item == value) return json(std::string(name));
        return json(nullptr);
    } else if constexpr (traits::is_optional<T>::value) {
        return value ? write_value(*value, secrets) : json(nullptr);
    } else if constexpr (traits::is_vector<T>::value) {
        json out = json::array();
        for (const auto& item : value) out.push_back(write_value(item, secrets));
        return out;
    } else {
        json out = json::object();
        write_fields(out, value, secrets);
        return out;
    }
}

/// Parses `text`; a syntax error is errc::configuration with its line and
/// column, but never the text around it (it may be a password). A document
/// over max_document_bytes (1 MiB) is refused unparsed, and one that states a
/// member twice in an object is refused naming both places (the parser would
/// keep the last silently).
[[nodiscard]] inline json parse(std::string_view text, const std::string& origin = {}) {
    const std::string from = origin.empty() ? std::string(error_prefix) : std::string(error_prefix) + origin + ": ";
    if (text.size() > max_document_bytes)
        throw error(errc::configuration, from + "the document is " + std::to_string(text.size()) +
                                             " bytes; a configuration may have at most " +
                                             std::to_string(max_document_bytes) + " (1 MiB)");
    try {
        json document = json::parse(text.begin(), text.end());
        if (const auto duplicate = locator(text).first_duplicate()) {
            const text_position first = position_of(text, duplicate->first);
            throw error(errc::configuration,
                        located_message(origin, duplicate->path, position_of(text, duplicate->second),
                                        "duplicate key " + shown_text(duplicate->name) + " (first at line " +
                                            std::to_string(first.line) + ", column " + std::to_string(first.column) + ")"));
        }
        return document;
    } catch (const json::parse_error& failure) {
        const text_position at = position_of(text, failure.byte == 0 ? 0 : failure.byte - 1);
        // nlohmann's message: "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error while
        // parsing value - invalid literal; last read: '...'; expected ...": keep the reason, drop "last read"
        std::string reason = failure.what();
        if (const auto colon = reason.find(": "); colon != std::string::npos) reason = reason.substr(colon + 2);
        if (const auto read = reason.find("; last read: "); read != std::string::npos) {
            const auto expected = reason.find("; expected", read);
            reason = reason.substr(0, read) + (expected == std::string::npos ? "" : reason.substr(expected));
        }
        std::string message = from;
        message.append("invalid JSON at line ")
            .append(std::to_string(at.line))
            .append(", column ")
            .append(std::to_string(at.column))
            .append(": ")
            .append(reason);
        throw error(errc::configuration, message);
    }
}

}  // namespace hotstate::detail::config
