// One event type on two channels would make publish ambiguous: must not compile.
#include <hotstate/coordinator.hpp>
#include <hotstate/transports/local.hpp>

#include "../test_events.hpp"

using again = hotstate::channel<"ping-again", coord_test::ping>;
using node = hotstate::coordinator<hotstate::transports::local, coord_test::pings, again>;

void use(node& n) { n.publish(coord_test::ping{}); }
