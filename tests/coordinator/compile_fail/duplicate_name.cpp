// Two channels with one name could not be told apart on the wire: must not compile.
#include <hotstate/coordinator.hpp>
#include <hotstate/transports/local.hpp>

#include "../test_events.hpp"

using clash = hotstate::channel<"test-ping", coord_test::other>;
using node = hotstate::coordinator<hotstate::transports::local, coord_test::pings, clash>;

void use(node& n) { n.publish(coord_test::other{}); }
