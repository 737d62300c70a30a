// Everything the compile-fail fixtures get wrong, done right: must build.
#include <hotstate/coordinator.hpp>
#include <hotstate/events.hpp>
#include <hotstate/transports/local.hpp>

#include "../test_events.hpp"

using node = hotstate::coordinator<hotstate::transports::local, coord_test::pings, hotstate::channels::blocked_ips>;

void use(node& n) {
    n.publish(coord_test::ping{1, 2, "x"});
    n.subscribe<hotstate::events::blocked_ip>([](const hotstate::events::blocked_ip&) {});
}

// bad_codec.cpp done right: a codec of the channel's own event type
struct reading {
    BOOST_HANA_DEFINE_STRUCT(reading, (std::int64_t, value));
};
struct reading_codec {
    static void encode(const reading& value, std::string& out) { out += std::to_string(value.value); }
    static reading decode(std::string_view in) { return reading{static_cast<std::int64_t>(in.size())}; }
};
using good = hotstate::channel<"reading", reading, reading_codec>;
good::event_type used{};
