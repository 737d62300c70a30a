// hotstate/channel.hpp: typed coordinator channels.
//
//   #include <boost/hana/define_struct.hpp>   // all an event type needs
//   struct user_renamed {
//       BOOST_HANA_DEFINE_STRUCT(user_renamed, (std::uint64_t, user), (std::string, name));
//   };
//   using renames = hotstate::channel<"user-renamed", user_renamed>;
//
// (An existing struct can be reflected from outside with BOOST_HANA_ADAPT_STRUCT,
// from <boost/hana/adapt_struct.hpp>.) Fields go on the wire in declaration
// order: append new ones at the end.
//
// A channel may name its codec (how its events become bytes): the default is
// hotstate::codec<Event>, the binary struct wire of a Hana struct or the user's
// own codec<Event> specialisation; hotstate::json_codec<Event> (json_codec.hpp)
// writes JSON that services in other languages read:
//
//   using shared_renames = hotstate::channel<"user-renamed", user_renamed, hotstate::json_codec<user_renamed>>;
//
// A channel binds one event type to one name. The name identifies the event on
// the wire (as a 32-bit FNV-1a tag computed at compile time), so nodes that
// declare the same channel understand each other, and a node ignores (and
// counts) events of channels it does not declare. A coordinator lists its
// channels; publishing or subscribing to an event on none of them does not
// compile.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include <hotstate/codec.hpp>
#include <hotstate/fixed_string.hpp>

namespace hotstate {

namespace detail {

struct channel_base {};

/// FNV-1a, 32 bits: stable across compilers and platforms, so it can go on the wire.
constexpr std::uint32_t fnv1a_32(std::string_view text) noexcept {
    std::uint32_t hash = 2166136261u;
    for (const char c : text) {
        hash ^= static_cast<std::uint8_t>(c);
        hash *= 16777619u;
    }
    return hash;
}

}  // namespace detail

namespace detail {

/// Whether `Codec` writes JSON text (it says so with `static constexpr bool writes_json = true`,
/// as json_codec does): transports::json_envelope then embeds its payloads as JSON.
template <class Codec>
inline constexpr bool codec_writes_json = [] {
    if constexpr (requires { Codec::writes_json; }) return static_cast<bool>(Codec::writes_json);
    else return false;
}();

/// Whether `Codec` encodes `Event`; false (not a hard error) when codec<Event> is not defined.
template <class Codec, class Event>
consteval bool codec_fits() {
    if constexpr (requires { sizeof(Codec); }) return CodecFor<Codec, Event>;
    else return false;
}

}  // namespace detail

/// One named, typed stream of events between the nodes of a cluster.
/// @tparam Name  the channel's name: its identity on the wire, must be unique within a coordinator
/// @tparam Event the event type: a Boost.Hana-reflected struct (default constructible: it is
///               decoded into), or any type `Codec` encodes
/// @tparam Codec how events become bytes (a CodecFor<Event>): codec<Event> (default), json_codec<Event>
template <fixed_string Name, class Event, class Codec = codec<Event>>
struct channel : detail::channel_base {
    static_assert(Name.size() > 0, "hotstate: a channel needs a non-empty name");
    static_assert(detail::codec_fits<Codec, Event>(),
                  "hotstate: a channel's event type must be a Boost.Hana-reflected struct "
                  "(BOOST_HANA_DEFINE_STRUCT or BOOST_HANA_ADAPT_STRUCT), or have a hotstate::codec<Event> "
                  "specialisation, or the channel a codec (CodecFor<Event>) as its third argument");

    /// The event type this channel carries.
    using event_type = Event;
    /// How its events become bytes.
    using codec_type = Codec;
    /// The channel's name, as declared.
    static constexpr std::string_view name = Name.view();
    /// The wire tag: FNV-1a of the name.
    static constexpr std::uint32_t tag = detail::fnv1a_32(Name.view());
};

/// A type made with hotstate::channel<"name", Event>.
template <class C>
concept CoordinatorChannel = std::derived_from<C, detail::channel_base> && requires {
    typename C::event_type;
    { C::name } -> std::convertible_to<std::string_view>;
    { C::tag } -> std::convertible_to<std::uint32_t>;
};

}  // namespace hotstate
