// hotstate/customization_points.hpp: everything a user may specialise or model,
// listed in one place.
//
//   hotstate::codec<T>             how values of type T become bytes and back
//                                  (codec.hpp; stock: bytes, integers, Hana structs);
//                                  also a coordinator channel's default event codec
//   a channel's Codec              any CodecFor<Event> as channel<Name, Event, Codec>'s
//                                  third argument (stock: codec<Event>, json_codec<Event>)
//   hotstate::Clock                a type with `time_point now() const`
//                                  (clock.hpp; stock: system_clock, manual_clock)
//   hotstate::category<...>        derive your own key categories (category.hpp)
//   store backend concepts         KeyValueBackend, PrefixEraseBackend, CounterBackend,
//                                  RateLimitBackend, LockBackend, LookupBackend (backend.hpp): model
//                                  some of them to plug in your own backend
//   backends::shard_config<S>      what a shard of your own backend type S is built
//                                  from inside backends::sharded (backends/sharded.hpp;
//                                  default S::config_type)
//
// Example: a codec for a type that is not a Hana struct.
//
//   struct ip_address { std::array<std::uint8_t, 16> bytes; };
//   template <> struct hotstate::codec<ip_address> {
//       static void encode(const ip_address& ip, std::string& out) {
//           out.append(reinterpret_cast<const char*>(ip.bytes.data()), ip.bytes.size());
//       }
//       static ip_address decode(std::string_view in) {
//           if (in.size() != 16) throw hotstate::error(hotstate::errc::decode, "ip_address: need 16 bytes");
//           ip_address ip;
//           std::memcpy(ip.bytes.data(), in.data(), 16);
//           return ip;
//       }
//   };
#pragma once

#include <hotstate/backend.hpp>
#include <hotstate/category.hpp>
#include <hotstate/clock.hpp>
#include <hotstate/codec.hpp>
