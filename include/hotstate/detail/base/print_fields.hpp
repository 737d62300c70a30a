// hotstate/detail/base/print_fields.hpp: a struct printed from its Hana field list.
//
// The configuration structs are Hana Structs (BOOST_HANA_ADAPT_STRUCT), so one
// field list drives to_string, the {fmt} formatters and the JSON loader, and a
// field added to a struct is printed without touching a printer. What a value
// shows follows its type:
//   secret                 ***
//   std::string            as a URL is shown: the userinfo's password as ***
//                          (see redact), bounded, non-printable bytes escaped
//   std::optional<T>       left out when empty
//   bool                   on / off
//   durations              in milliseconds, "250ms"
//   enums                  by the to_string found next to them
//   std::vector<T>         [a, b]
//   nested Hana Structs    {field=value, ...}
#pragma once

#include <chrono>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>

#include <hotstate/detail/base/field_traits.hpp>
#include <hotstate/secret.hpp>

namespace hotstate::detail {

/// How a std::string field is shown: the caller's rule (for the Redis
/// configs, as a URL with its password masked).
using string_shower = std::string (*)(std::string_view);

namespace printing = field_traits;

template <class T>
void append_fields(std::string& out, const T& value, string_shower shown_string);

/// Appends `value` as its type says (see the banner).
template <class T>
void append_value(std::string& out, const T& value, string_shower shown_string) {
    if constexpr (std::is_same_v<T, secret>) {
        out += to_string(value);
    } else if constexpr (std::is_same_v<T, std::string>) {
        out += shown_string(value);
    } else if constexpr (std::is_same_v<T, bool>) {
        out += value ? "on" : "off";
    } else if constexpr (printing::is_duration<T>::value) {
        out += std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(value).count()) + "ms";
    } else if constexpr (std::is_enum_v<T>) {
        out += to_string(value);
    } else if constexpr (std::is_arithmetic_v<T>) {
        out += std::to_string(value);
    } else if constexpr (printing::is_vector<T>::value) {
        out += '[';
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (i) out += ", ";
            append_value(out, value[i], shown_string);
        }
        out += ']';
    } else {
        static_assert(boost::hana::Struct<T>::value, "a config field of a type print_fields cannot show");
        out += '{';
        append_fields(out, value, shown_string);
        out += '}';
    }
}

/// Appends `name=value` for every field of the Hana Struct `value`, comma-separated.
template <class T>
void append_fields(std::string& out, const T& value, string_shower shown_string) {
    bool first = true;
    boost::hana::for_each(boost::hana::accessors<T>(), [&](auto field) {
        const auto& member = boost::hana::second(field)(value);
        using member_type = std::remove_cvref_t<decltype(member)>;
        if constexpr (printing::is_optional<member_type>::value) {
            if (!member) return;
        }
        if (!first) out += ", ";
        first = false;
        out += boost::hana::to<const char*>(boost::hana::first(field));
        out += '=';
        if constexpr (printing::is_optional<member_type>::value)
            append_value(out, *member, shown_string);
        else
            append_value(out, member, shown_string);
    });
}

/// `name{field=value, ...}`: a config for logs, secrets as ***.
template <class T>
[[nodiscard]] std::string print_fields(std::string_view name, const T& value, string_shower shown_string) {
    std::string out(name);
    out += '{';
    append_fields(out, value, shown_string);
    out += '}';
    return out;
}

}  // namespace hotstate::detail
