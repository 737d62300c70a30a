// A channel's event must be a Hana-reflected struct (that is what the wire format is made from).
#include <hotstate/channel.hpp>

struct plain {
    int value;
};

using bad = hotstate::channel<"plain", plain>;
bad::event_type unused{};
