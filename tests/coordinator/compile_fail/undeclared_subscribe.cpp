// Subscribing to an event type that is on none of the coordinator's channels must not compile.
#include <hotstate/coordinator.hpp>
#include <hotstate/events.hpp>
#include <hotstate/transports/local.hpp>

#include "../test_events.hpp"

using node = hotstate::coordinator<hotstate::transports::local, coord_test::pings>;

void use(node& n) { n.subscribe<hotstate::events::blocked_ip>([](const hotstate::events::blocked_ip&) {}); }
