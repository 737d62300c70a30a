// hotstate/codec.hpp: how category values become bytes and back.
//
// Stock encodings (chosen at compile time from the category's value type):
//   - std::string (`hotstate::bytes`): stored as is, binary safe;
//   - integers: decimal ASCII, so Redis INCRBY and hotstate counters agree;
//   - Boost.Hana-reflected structs (BOOST_HANA_DEFINE_STRUCT / ADAPT_STRUCT):
//     compact binary, fields in declaration order (see struct_wire below).
// Anything else: specialise hotstate::codec<T> (see customization_points.hpp).
// Decoding truncated, overlong or foreign bytes throws errc::decode.
//
// Codecs of coordinator events (the CodecFor concept; a channel's third argument):
//   - hotstate::codec<Event> (the default): the compact binary struct wire of
//     Hana structs, or the user's own codec<Event> specialisation. Use it between
//     hotstate nodes: smallest messages, fastest to encode.
//   - hotstate::json_codec<Event> (hotstate/json_codec.hpp, nlohmann-json): a JSON
//     object with the struct's field names, made from its Hana reflection. Use it
//     for channels that services in other languages read or write.
// docs/wire-format.md specifies both, and the message framing around them.
#pragma once

#include <array>
#include <charconv>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>

#include <hotstate/detail/base/text.hpp>
#include <hotstate/detail/base/wire.hpp>
#include <hotstate/error.hpp>

namespace hotstate {

/// Raw bytes: the default value type of a category.
using bytes = std::string;

/// Customisation point: `static void encode(const T&, std::string& out)` and
/// `static T decode(std::string_view)`. The primary template is left undefined.
template <class T, class Enable = void>
struct codec;

/// A value type hotstate knows how to store.
template <class T>
concept Encodable = requires(const T& value, std::string& out, std::string_view in) {
    codec<T>::encode(value, out);
    { codec<T>::decode(in) } -> std::same_as<T>;
};

/// A codec of `T` values: `C::encode(const T&, std::string& out)` appends the
/// bytes, `C::decode(std::string_view)` returns the value or throws errc::decode.
/// Models: codec<T> (and user specialisations of it), json_codec<T>.
template <class C, class T>
concept CodecFor = requires(const T& value, std::string& out, std::string_view in) {
    C::encode(value, out);
    { C::decode(in) } -> std::same_as<T>;
};

/// True for types reflected by Boost.Hana.
template <class T>
concept HanaStruct = boost::hana::Struct<T>::value;

namespace detail {

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class T, class A> struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T> struct is_std_array : std::false_type {};
template <class T, std::size_t N> struct is_std_array<std::array<T, N>> : std::true_type {};
template <class T> struct is_duration : std::false_type {};
template <class R, class P> struct is_duration<std::chrono::duration<R, P>> : std::true_type {};
template <class T> struct is_time_point : std::false_type {};
template <class C, class D> struct is_time_point<std::chrono::time_point<C, D>> : std::true_type {};

template <class T>
constexpr bool is_byte_like = std::is_same_v<T, std::byte> || std::is_same_v<T, std::uint8_t> ||
                              std::is_same_v<T, char> || std::is_same_v<T, unsigned char>;

template <class T>
inline constexpr bool dependent_false = false;

/// The field-level binary encoding used by struct values and coordinator events.
template <class T>
struct struct_wire {
    static void encode(const T& value, std::string& out) {
        if constexpr (std::is_same_v<T, bool>) {
            out.push_back(value ? '\1' : '\0');
        } else if constexpr (std::is_enum_v<T>) {
            struct_wire<std::underlying_type_t<T>>::encode(static_cast<std::underlying_type_t<T>>(value), out);
        } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
            put_varint(out, value);
        } else if constexpr (std::is_integral_v<T>) {
            put_varint(out, zigzag_encode(value));
        } else if constexpr (std::is_floating_point_v<T>) {
            put_fixed_le(out, value);
        } else if constexpr (std::is_same_v<T, std::string>) {
            put_bytes(out, value);
        } else if constexpr (is_optional<T>::value) {
            out.push_back(value ? '\1' : '\0');
            if (value) struct_wire<typename T::value_type>::encode(*value, out);
        } else if constexpr (is_vector<T>::value) {
            using element = typename T::value_type;
            if constexpr (is_byte_like<element>) {
                put_bytes(out, std::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
            } else {
                put_varint(out, value.size());
                for (const auto& item : value) struct_wire<element>::encode(item, out);
            }
        } else if constexpr (is_std_array<T>::value) {
            using element = typename T::value_type;
            if constexpr (is_byte_like<element>) {
                out.append(reinterpret_cast<const char*>(value.data()), value.size());
            } else {
                for (const auto& item : value) struct_wire<element>::encode(item, out);
            }
        } else if constexpr (is_duration<T>::value) {
            struct_wire<std::int64_t>::encode(static_cast<std::int64_t>(value.count()), out);
        } else if constexpr (is_time_point<T>::value) {
            struct_wire<typename T::duration>::encode(value.time_since_epoch(), out);
        } else if constexpr (HanaStruct<T>) {
            boost::hana::for_each(boost::hana::accessors<T>(), [&](auto accessor) {
                const auto& field = boost::hana::second(accessor)(value);
                struct_wire<std::remove_cvref_t<decltype(field)>>::encode(field, out);
            });
        } else {
            static_assert(dependent_false<T>,
                          "hotstate: this field type has no wire encoding; use integers, bool, enums, "
                          "floating point, std::string, std::optional, std::vector, std::array, "
                          "std::chrono durations/time points or nested Hana structs");
        }
    }

    static T decode(wire_reader& in) {
        if constexpr (std::is_same_v<T, bool>) {
            const auto flag = in.byte();
            if (flag > 1) in.fail("bool field is neither 0 nor 1");
            return flag == 1;
        } else if constexpr (std::is_enum_v<T>) {
            return static_cast<T>(struct_wire<std::underlying_type_t<T>>::decode(in));
        } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
            const std::uint64_t raw = in.varint();
            if (raw > std::numeric_limits<T>::max()) in.fail("integer field out of range");
            return static_cast<T>(raw);
        } else if constexpr (std::is_integral_v<T>) {
            const std::int64_t raw = zigzag_decode(in.varint());
            if (raw < std::numeric_limits<T>::min() || raw > std::numeric_limits<T>::max())
                in.fail("integer field out of range");
            return static_cast<T>(raw);
        } else if constexpr (std::is_floating_point_v<T>) {
            return in.template fixed_le<T>();
        } else if constexpr (std::is_same_v<T, std::string>) {
            return std::string(in.bytes());
        } else if constexpr (is_optional<T>::value) {
            const auto flag = in.byte();
            if (flag > 1) in.fail("optional presence flag is neither 0 nor 1");
            if (flag == 0) return T{};
            return T{struct_wire<typename T::value_type>::decode(in)};
        } else if constexpr (is_vector<T>::value) {
            using element = typename T::value_type;
            if constexpr (is_byte_like<element>) {
                const auto raw = in.bytes();
                const auto* first = reinterpret_cast<const element*>(raw.data());
                return T(first, first + raw.size());
            } else {
                const std::uint64_t count = in.varint();
                // every element takes at least one byte: refuse counts garbage made up
                if (count > in.remaining()) in.fail("element count runs past the end");
                T result;
                result.reserve(static_cast<std::size_t>(count));
                for (std::uint64_t i = 0; i < count; ++i) result.push_back(struct_wire<element>::decode(in));
                return result;
            }
        } else if constexpr (is_std_array<T>::value) {
            using element = typename T::value_type;
            T result{};
            if constexpr (is_byte_like<element>) {
                const auto raw = in.take(result.size());
                std::memcpy(result.data(), raw.data(), raw.size());
            } else {
                for (auto& item : result) item = struct_wire<element>::decode(in);
            }
            return result;
        } else if constexpr (is_duration<T>::value) {
            return T{static_cast<typename T::rep>(struct_wire<std::int64_t>::decode(in))};
        } else if constexpr (is_time_point<T>::value) {
            return T{struct_wire<typename T::duration>::decode(in)};
        } else if constexpr (HanaStruct<T>) {
            static_assert(std::is_default_constructible_v<T>,
                          "hotstate: a reflected struct must be default constructible to be decoded");
            T result{};
            boost::hana::for_each(boost::hana::accessors<T>(), [&](auto accessor) {
                auto& field = boost::hana::second(accessor)(result);
                field = struct_wire<std::remove_cvref_t<decltype(field)>>::decode(in);
            });
            return result;
        } else {
            static_assert(dependent_false<T>, "hotstate: this field type has no wire encoding");
        }
    }
};

}  // namespace detail

/// Raw bytes: stored unchanged.
template <>
struct codec<std::string> {
    static void encode(std::string_view value, std::string& out) { out.append(value); }
    static std::string decode(std::string_view in) { return std::string(in); }
};

/// Integers: decimal ASCII, the representation Redis counters use.
template <class T>
struct codec<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
    static void encode(T value, std::string& out) {
        char buffer[24];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
        out.append(buffer, result.ptr);
    }
    static T decode(std::string_view in) {
        const auto value = detail::parse_decimal<T>(in);
        if (!value)
            throw error(errc::decode, "hotstate: cannot decode integer value: stored bytes are not a "
                                      "decimal integer in range");
        return *value;
    }
};

/// Hana-reflected structs: compact binary; trailing bytes are refused.
template <class T>
struct codec<T, std::enable_if_t<boost::hana::Struct<T>::value>> {
    static void encode(const T& value, std::string& out) { detail::struct_wire<T>::encode(value, out); }
    static T decode(std::string_view in) {
        detail::wire_reader reader(in, "struct value");
        T result = detail::struct_wire<T>::decode(reader);
        reader.expect_end();
        return result;
    }
};

}  // namespace hotstate
