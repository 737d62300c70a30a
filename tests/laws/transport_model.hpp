// Transport models for the laws of laws/transport.hpp: the capability tags
// of the transport family and laws::transport_model<Fixture, Caps...>, checked
// against the transport and its fixture as laws::model is against a backend.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <hotstate/transport.hpp>

#include "laws/model.hpp"

namespace laws {

struct transport {};
struct durable {};
struct server_restart {};

using transport_family = capabilities<transport, durable, server_restart>;

/// What a transport fixture starts with: its transport, a name of its own (a
/// channel, subject or stream no other test case of the binary uses), and when
/// a node's receive side is live (positioned on its stream, or subscribed).
template <class T>
struct transport_fixture {
    using transport = T;
    std::string name;

    explicit transport_fixture(std::string_view stem, char separator = ':') {
        static std::atomic<int> counter{0};
        name.append("conformance").append(1, separator).append(stem).append(1, separator);
        name.append(std::to_string(++counter));
    }
    static bool ready(T& t) {
        if constexpr (requires { t.reading(); }) return t.reading();
        else return t.subscribed();
    }
};

/// The fixture `F` as a transport model stating capabilities `Caps`.
template <class F, class... Caps>
struct transport_model : F {
    using fixture = F;
    using stated = typename detail::flatten_one<capabilities<Caps...>>::type;

    template <class Cap>
    static constexpr bool states = detail::in_list<Cap, stated>;
    template <class Cap>
    static constexpr bool offers = [] {
        if constexpr (std::is_same_v<Cap, laws::transport>) return hotstate::Transport<typename F::transport>;
        else if constexpr (std::is_same_v<Cap, durable>) return F::transport::durable;
        else if constexpr (std::is_same_v<Cap, server_restart>)
            return requires(F& fixture) {
                fixture.stop_server();
                fixture.start_server();
            };
        else return false;
    }();
};

}  // namespace laws

