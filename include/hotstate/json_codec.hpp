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
// in declaration order (made from the reflection, nothing to write by hand): integers, bool and
// floating point as JSON numbers and booleans, enums as their underlying
// integer, std::string as a string (it must be UTF-8), std::optional as the
// value or null, std::vector / std::array as arrays (of bytes too), durations
// as their count and time points as the count since the epoch, nested structs
// as objects. Decoding ignores keys it does not know (a newer sender may add
// fields), reads a missing optional field as empty and refuses any other
// missing field, wrong type or out-of-range number with errc::decode naming
// the field. docs/wire-format.md specifies the framing around the payload.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
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
#include <hotstate/error.hpp>

namespace hotstate {

namespace detail {

/// Keys in declaration order: the bytes are deterministic and read like the struct.
using json_value = nlohmann::ordered_json;

/// The JSON form of one value (see json_codec.hpp's banner).
template <class T>
struct json_field {
    static json_value to(const T& value) {
        if constexpr (std::is_same_v<T, bool> || std::is_arithmetic_v<T> || std::is_same_v<T, std::string>) {
            return value;
        } else if constexpr (std::is_enum_v<T>) {
            return static_cast<std::underlying_type_t<T>>(value);
        } else if constexpr (is_optional<T>::value) {
            return value ? json_field<typename T::value_type>::to(*value) : json_value(nullptr);
        } else if constexpr (is_vector<T>::value || is_std_array<T>::value) {
            json_value array = json_value::array();
            for (const auto& item : value) array.push_back(json_field<typename T::value_type>::to(item));
            return array;
        } else if constexpr (is_duration<T>::value) {
            return static_cast<std::int64_t>(value.count());
        } else if constexpr (is_time_point<T>::value) {
            return static_cast<std::int64_t>(value.time_since_epoch().count());
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

    static T from(const json_value& in, std::string_view where) {
        if constexpr (std::is_same_v<T, bool>) {
            if (!in.is_boolean()) fail(where, "expected a boolean");
            return in.get<bool>();
        } else if constexpr (std::is_integral_v<T>) {
            if (!in.is_number_integer()) fail(where, "expected an integer");
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
            if (!in.is_number()) fail(where, "expected a number");
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
            return T{static_cast<typename T::rep>(json_field<std::int64_t>::from(in, where))};
        } else if constexpr (is_time_point<T>::value) {
            return T{json_field<typename T::duration>::from(in, where)};
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
