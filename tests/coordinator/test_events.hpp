// Events and channels the coordinator tests use.
#pragma once

#include <cstdint>
#include <string>

#include <boost/hana/define_struct.hpp>

#include <hotstate/channel.hpp>
#include <hotstate/events.hpp>

namespace coord_test {

struct ping {
    BOOST_HANA_DEFINE_STRUCT(ping,
        (std::uint64_t, from),
        (std::uint64_t, n),
        (std::string, note));
};

struct other {
    BOOST_HANA_DEFINE_STRUCT(other, (std::int32_t, value));
};

using pings = hotstate::channel<"test-ping", ping>;
using others = hotstate::channel<"test-other", other>;

}  // namespace coord_test
