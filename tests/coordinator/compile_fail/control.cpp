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
