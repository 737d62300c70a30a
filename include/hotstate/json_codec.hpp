// hotstate/json_codec.hpp: coordinator events as JSON, for channels shared with
// services in other languages (needs nlohmann-json: the hotstate::json target).
//
//   struct user_renamed {
//       BOOST_HANA_DEFINE_STRUCT(user_renamed, (std::uint64_t, user), (std::string, name));
//   };
//   using renames = hotstate::channel<"user-renamed", user_renamed, hotstate::json_codec<user_renamed>>;
//   // an event's payload on the wire: {"user":42,"name":"ada"}
//
// A Hana-reflected struct becomes a JSON object whose keys are its field names
// in declaration order (made from the reflection, nothing to write by hand).
// Every value has one form another language reads exactly (docs/wire-format.md
// states them; they follow protobuf's canonical JSON mapping where it has one):
//   - integers (and enums, as their underlying integer): a JSON number when
//     within +-(2^53 - 1), the range a double (JavaScript's number) holds
//     exactly; beyond it a string of decimal digits ("18446744073709551615");
//   - floating point: a JSON number (shortest form that reads back to the same
//     value), and the strings "NaN", "Infinity", "-Infinity";
//   - bool, std::string (UTF-8), std::optional (the value, or null),
//     std::vector / std::array (arrays, of bytes too), nested structs (objects);
//   - a duration: a string of seconds with 0, 3, 6 or 9 fractional digits and
//     the suffix "s" ("1.500s", "-0.000000001s"), whatever its C++ unit;
//   - a std::chrono::system_clock time point: an RFC 3339 UTC string
//     ("2026-12-07T18:24:00.123456789Z", 0, 3, 6 or 9 fractional digits, years
//     0001-9999); a time point of another clock: its time since that clock's
//     epoch, as a duration.
// Decoding accepts those forms, and also: an integer as a decimal string
// whatever its size, a duration or time point as a JSON integer counting the
// field's own unit (what this codec wrote before), an RFC 3339 offset instead
// of "Z". It ignores keys it does not know (a newer sender may add fields),
// reads a missing optional field as empty, and refuses any other missing
// field, wrong type, out-of-range number or a time finer than the field's unit
// with errc::decode naming the field. docs/wire-format.md specifies the
// framing around the payload.
#pragma once

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <nlohmann/json.hpp>

#include <hotstate/codec.hpp>
#include <hotstate/detail/base/text.hpp>
#include <hotstate/error.hpp>

namespace hotstate {

namespace detail {

/// Keys in declaration order: the bytes are deterministic and read like the struct.
using json_value = nlohmann::ordered_json;

/// The largest magnitude a double holds exactly, every integer below it included:
/// JSON numbers up to it read exactly in every language (JavaScript's Number too).
inline constexpr std::uint64_t json_exact_integer = (std::uint64_t{1} << 53) - 1;

/// Nanoseconds of a time or a span, wide enough for any 64-bit count of any unit.
__extension__ using json_nanos = __int128;

inline constexpr json_nanos nanos_per_second = 1'000'000'000;

/// "<seconds>[.<3, 6 or 9 digits>]": the fraction as short as exactness allows.
inline void append_seconds(std::string& out, json_nanos magnitude) {
    const auto whole = magnitude / nanos_per_second;
    auto fraction = static_cast<std::uint32_t>(magnitude % nanos_per_second);
    char digits[48];
    std::size_t n = 0;
    auto rest = whole;
    do {
        digits[n++] = static_cast<char>('0' + static_cast<int>(rest % 10));
        rest /= 10;
    } while (rest != 0);
    while (n > 0) out.push_back(digits[--n]);
    if (fraction == 0) return;
    int width = 9;
    while (width > 3 && fraction % 1000 == 0) {
        fraction /= 1000;
        width -= 3;
    }
    char text[16];
    const int written = std::snprintf(text, sizeof text, ".%0*u", width, fraction);
    out.append(text, static_cast<std::size_t>(written));
}

/// Reads "<digits>[.<1..9 digits>]" at the front of `in` as nanoseconds; nullopt if it is not that.
inline std::optional<json_nanos> read_seconds(std::string_view& in) {
    std::size_t i = 0;
    json_nanos whole = 0;
    while (i < in.size() && in[i] >= '0' && in[i] <= '9') {
        whole = whole * 10 + (in[i] - '0');
        if (whole > json_nanos{1} << 80) return std::nullopt;  // far beyond any 64-bit count of nanoseconds
        ++i;
    }
    if (i == 0) return std::nullopt;
    json_nanos fraction = 0;
    if (i < in.size() && in[i] == '.') {
        ++i;
        int digits = 0;
        while (i < in.size() && in[i] >= '0' && in[i] <= '9') {
            if (++digits > 9) return std::nullopt;
            fraction = fraction * 10 + (in[i] - '0');
            ++i;
        }
        if (digits == 0) return std::nullopt;
        for (; digits < 9; ++digits) fraction *= 10;
    }
    in.remove_prefix(i);
    return whole * nanos_per_second + fraction;
}

/// A span as protobuf's Duration JSON: "1.500s", "-0.000000001s".
inline std::string duration_text(json_nanos nanos) {
    std::string out;
    if (nanos < 0) out.push_back('-');
    append_seconds(out, nanos < 0 ? -nanos : nanos);
    out.push_back('s');
    return out;
}

/// Parses duration_text's form (any 0..9 fractional digits); nullopt if it is not that.
inline std::optional<json_nanos> parse_duration_text(std::string_view in) {
    const bool negative = !in.empty() && in.front() == '-';
    if (negative) in.remove_prefix(1);
    const auto magnitude = read_seconds(in);
    if (!magnitude || in != "s") return std::nullopt;
    return negative ? -*magnitude : *magnitude;
}

/// Nanoseconds since 1970-01-01T00:00:00Z as RFC 3339 UTC; nullopt outside years 0001-9999.
inline std::optional<std::string> timestamp_text(json_nanos nanos) {
    constexpr json_nanos per_day = nanos_per_second * 86400;
    json_nanos day = nanos / per_day, of_day = nanos % per_day;
    if (of_day < 0) {
        of_day += per_day;
        --day;
    }
    if (day < -719162 || day > 2932896) return std::nullopt;  // 0001-01-01 .. 9999-12-31
    const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{static_cast<int>(day)}}};
    const auto second_of_day = static_cast<unsigned>(of_day / nanos_per_second);
    char text[32];
    const int written = std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02u:%02u:%02u", static_cast<int>(date.year()),
                                      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                                      second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    std::string out(text, static_cast<std::size_t>(written));
    std::string seconds;
    append_seconds(seconds, of_day % nanos_per_second);  // "0" or "0.<fraction>"
    out.append(seconds, 1, std::string::npos);
    out.push_back('Z');
    return out;
}

/// Parses RFC 3339 ("YYYY-MM-DDTHH:MM:SS[.f]" and "Z" or "+hh:mm"/"-hh:mm") to nanoseconds
/// since the Unix epoch; nullopt if it is not that (or names no valid date and time).
inline std::optional<json_nanos> parse_timestamp_text(std::string_view in) {
    const auto number = [&](std::size_t at, std::size_t width) -> std::optional<unsigned> {
        if (at + width > in.size()) return std::nullopt;
        return parse_decimal<unsigned>(in.substr(at, width));
    };
    const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
    const auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
    if (!year || !month || !day || !hour || !minute || !second || in[4] != '-' || in[7] != '-' ||
        (in[10] != 'T' && in[10] != 't' && in[10] != ' ') || in[13] != ':' || in[16] != ':')
        return std::nullopt;
    const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(*year)}, std::chrono::month{*month},
                                           std::chrono::day{*day}};
    if (*year == 0 || !date.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
    std::string_view rest = in.substr(17);
    const auto seconds = read_seconds(rest);  // "SS[.fraction]"
    if (!seconds) return std::nullopt;
    json_nanos offset = 0;
    if (rest == "Z" || rest == "z") {
        rest = {};
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
        const auto oh = parse_decimal<unsigned>(rest.substr(1, 2)), om = parse_decimal<unsigned>(rest.substr(4, 2));
        if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
        offset = (json_nanos{*oh} * 3600 + *om * 60) * nanos_per_second * (rest[0] == '+' ? 1 : -1);
    } else {
        return std::nullopt;
    }
    const json_nanos days = std::chrono::sys_days{date}.time_since_epoch().count();
    return days * 86400 * nanos_per_second + (json_nanos{*hour} * 3600 + *minute * 60) * nanos_per_second + *seconds -
           offset;
}

/// Nanoseconds in one tick of `D`; refused at compile time when it is not a whole number.
template <class D>
consteval json_nanos nanos_per_tick() {
    using period = typename D::period;
    static_assert(std::is_integral_v<typename D::rep>,
                  "hotstate json_codec: a duration or time point needs an integer count to have an exact JSON form");
    static_assert(json_nanos{period::num} * nanos_per_second % period::den == 0,
                  "hotstate json_codec: a duration whose tick is not a whole number of nanoseconds has no exact "
                  "JSON form");
    return json_nanos{period::num} * nanos_per_second / period::den;
}

/// The JSON form of one value (see json_codec.hpp's banner).
template <class T>
struct json_field {
    static json_value to(const T& value) {
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
            return value;
        } else if constexpr (std::is_integral_v<T>) {
            if constexpr (std::is_signed_v<T>) {
                if (value >= -static_cast<std::int64_t>(json_exact_integer) &&
                    value <= static_cast<std::int64_t>(json_exact_integer))
                    return static_cast<std::int64_t>(value);
            } else {
                if (value <= json_exact_integer) return static_cast<std::uint64_t>(value);
            }
            return std::to_string(value);  // beyond what a double holds exactly: the digits, as a string
        } else if constexpr (std::is_floating_point_v<T>) {
            if (std::isnan(value)) return "NaN";  // JSON has no NaN or infinity (nlohmann would write null)
            if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
            return value;
        } else if constexpr (std::is_enum_v<T>) {
            return json_field<std::underlying_type_t<T>>::to(static_cast<std::underlying_type_t<T>>(value));
        } else if constexpr (is_optional<T>::value) {
            return value ? json_field<typename T::value_type>::to(*value) : json_value(nullptr);
        } else if constexpr (is_vector<T>::value || is_std_array<T>::value) {
            json_value array = json_value::array();
            for (const auto& item : value) array.push_back(json_field<typename T::value_type>::to(item));
            return array;
        } else if constexpr (is_duration<T>::value) {
            return duration_text(json_nanos{value.count()} * nanos_per_tick<T>());
        } else if constexpr (is_time_point<T>::value) {
            using duration = typename T::duration;
            const json_nanos since_epoch = json_nanos{value.time_since_epoch().count()} * nanos_per_tick<duration>();
            if constexpr (!std::is_same_v<typename T::clock, std::chrono::system_clock>) {
                return duration_text(since_epoch);  // another clock's epoch means nothing elsewhere
            } else {
                auto text = timestamp_text(since_epoch);
                if (!text)
                    throw error(errc::invalid_argument,
                                "hotstate json_codec: a time point outside the years 0001-9999 has no RFC 3339 form");
                return *std::move(text);
            }
        } else if constexpr (HanaStruct<T>) {
            json_value object = json_value::object();
            boost::hana::for_each(boost::hana::accessors<T>(), [&](auto accessor) {
                const auto& field = boost::hana::second(accessor)(value);
                object[boost::hana::to<const char*>(boost::hana::first(accessor))] =
                    json_field<std::remove_cvref_t<decltype(field)>>::to(field);
            });
            return object;
        } else {
            static_assert(dependent_false<T>, "hotstate json_codec: this field type has no JSON form");
        }
    }

    [[noreturn]] static void fail(std::string_view where, std::string_view what) {
        throw error(errc::decode, "hotstate json_codec: field '" + std::string(where) + "': " + std::string(what));
    }

    /// `nanos` as a count of D's ticks: refused when finer than a tick or out of D's range.
    template <class D>
    static typename D::rep ticks_of(json_nanos nanos, std::string_view where) {
        constexpr json_nanos tick = nanos_per_tick<D>();
        if (nanos % tick != 0) fail(where, "finer than the field's unit");
        const json_nanos ticks = nanos / tick;
        if (ticks < json_nanos{std::numeric_limits<typename D::rep>::min()} ||
            ticks > json_nanos{std::numeric_limits<typename D::rep>::max()})
            fail(where, "out of range");
        return static_cast<typename D::rep>(ticks);
    }

    static T from(const json_value& in, std::string_view where) {
        if constexpr (std::is_same_v<T, bool>) {
            if (!in.is_boolean()) fail(where, "expected a boolean");
            return in.get<bool>();
        } else if constexpr (std::is_integral_v<T>) {
            if (in.is_string()) {  // the form of integers beyond 2^53 (any integer is read so)
                const auto& digits = in.get_ref<const std::string&>();
                const std::size_t first_digit = !digits.empty() && digits[0] == '-' ? 1 : 0;
                const bool shaped = digits.size() > first_digit &&
                                    digits.find_first_not_of("0123456789", first_digit) == std::string::npos;
                if (!shaped) fail(where, "expected an integer (a JSON number, or a string of decimal digits)");
                const auto parsed = parse_decimal<T>(digits);
                if (!parsed) fail(where, "integer out of range");
                return *parsed;
            }
            if (!in.is_number_integer()) fail(where, "expected an integer (a JSON number, or a string of decimal digits)");
            if constexpr (std::is_unsigned_v<T>) {
                if (in.is_number_unsigned()) {
                    const auto raw = in.get<std::uint64_t>();
                    if (raw > std::numeric_limits<T>::max()) fail(where, "integer out of range");
                    return static_cast<T>(raw);
                }
                const auto raw = in.get<std::int64_t>();
                if (raw < 0 || static_cast<std::uint64_t>(raw) > std::numeric_limits<T>::max())
                    fail(where, "integer out of range");
                return static_cast<T>(raw);
            } else {
                if (in.is_number_unsigned() &&
                    in.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
                    fail(where, "integer out of range");
                const auto raw = in.get<std::int64_t>();
                if (raw < std::numeric_limits<T>::min() || raw > std::numeric_limits<T>::max())
                    fail(where, "integer out of range");
                return static_cast<T>(raw);
            }
        } else if constexpr (std::is_floating_point_v<T>) {
            if (in.is_string()) {
                const auto& text = in.get_ref<const std::string&>();
                if (text == "NaN") return std::numeric_limits<T>::quiet_NaN();
                if (text == "Infinity") return std::numeric_limits<T>::infinity();
                if (text == "-Infinity") return -std::numeric_limits<T>::infinity();
            }
            if (!in.is_number()) fail(where, "expected a number (or \"NaN\", \"Infinity\", \"-Infinity\")");
            return in.get<T>();
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (!in.is_string()) fail(where, "expected a string");
            return in.get<std::string>();
        } else if constexpr (std::is_enum_v<T>) {
            return static_cast<T>(json_field<std::underlying_type_t<T>>::from(in, where));
        } else if constexpr (is_optional<T>::value) {
            if (in.is_null()) return T{};
            return T{json_field<typename T::value_type>::from(in, where)};
        } else if constexpr (is_vector<T>::value) {
            if (!in.is_array()) fail(where, "expected an array");
            T result;
            result.reserve(in.size());
            for (const auto& item : in) result.push_back(json_field<typename T::value_type>::from(item, where));
            return result;
        } else if constexpr (is_std_array<T>::value) {
            T result{};
            if (!in.is_array() || in.size() != result.size())
                fail(where, "expected an array of " + std::to_string(result.size()) + " elements");
            for (std::size_t i = 0; i < result.size(); ++i)
                result[i] = json_field<typename T::value_type>::from(in[i], where);
            return result;
        } else if constexpr (is_duration<T>::value) {
            if (in.is_number_integer()) return T{json_field<typename T::rep>::from(in, where)};  // a count of its unit
            if (!in.is_string()) fail(where, "expected a duration (a string like \"1.5s\")");
            const auto nanos = parse_duration_text(in.get_ref<const std::string&>());
            if (!nanos) fail(where, "expected a duration (a string like \"1.5s\")");
            return T{ticks_of<T>(*nanos, where)};
        } else if constexpr (is_time_point<T>::value) {
            using duration = typename T::duration;
            if (in.is_number_integer()) return T{json_field<duration>::from(in, where)};  // a count since the epoch
            if constexpr (!std::is_same_v<typename T::clock, std::chrono::system_clock>) {
                return T{json_field<duration>::from(in, where)};
            } else {
                if (!in.is_string()) fail(where, "expected a time (an RFC 3339 string)");
                const auto nanos = parse_timestamp_text(in.get_ref<const std::string&>());
                if (!nanos) fail(where, "expected a time (an RFC 3339 string like \"2026-12-07T18:24:00Z\")");
                return T{duration{ticks_of<duration>(*nanos, where)}};
            }
        } else if constexpr (HanaStruct<T>) {
            static_assert(std::is_default_constructible_v<T>,
                          "hotstate json_codec: a reflected struct must be default constructible to be decoded");
            if (!in.is_object()) fail(where, "expected an object");
            T result{};
            boost::hana::for_each(boost::hana::accessors<T>(), [&](auto accessor) {
                const char* name = boost::hana::to<const char*>(boost::hana::first(accessor));
                auto& field = boost::hana::second(accessor)(result);
                using field_type = std::remove_cvref_t<decltype(field)>;
                const auto found = in.find(name);
                if (found == in.end()) {
                    if constexpr (!is_optional<field_type>::value) fail(name, "missing");
                    return;
                }
                field = json_field<field_type>::from(*found, name);
            });
            return result;
        } else {
            static_assert(dependent_false<T>, "hotstate json_codec: this field type has no JSON form");
        }
    }
};

}  // namespace detail

/// JSON codec of a Hana-reflected struct (see the banner): a model of CodecFor<T>.
template <class T>
struct json_codec {
    static_assert(HanaStruct<T>, "hotstate json_codec: the event type must be a Boost.Hana-reflected struct");

    /// Its payloads are JSON text (transports::json_envelope embeds them as JSON).
    static constexpr bool writes_json = true;

    /// Appends `value` as a compact JSON object.
    static void encode(const T& value, std::string& out) { out += detail::json_field<T>::to(value).dump(); }

    /// Parses a JSON object; throws errc::decode (not JSON, a field missing, of the wrong type, out of range).
    static T decode(std::string_view in) {
        detail::json_value parsed = detail::json_value::parse(in.begin(), in.end(), nullptr, false);
        if (parsed.is_discarded()) throw error(errc::decode, "hotstate json_codec: payload is not valid JSON");
        return detail::json_field<T>::from(parsed, "(event)");
    }
};

}  // namespace hotstate
