// A channel's codec must encode its event type: a codec of another type is refused, in words.
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/hana/define_struct.hpp>

#include <hotstate/channel.hpp>

struct reading {
    BOOST_HANA_DEFINE_STRUCT(reading, (std::int64_t, value));
};

struct text_codec {  // encodes std::string, not reading
    static void encode(const std::string& value, std::string& out) { out += value; }
    static std::string decode(std::string_view in) { return std::string(in); }
};

using bad = hotstate::channel<"reading", reading, text_codec>;
bad::event_type unused{};
