// The transport conformance suite over the in-process transport (no server: the
// server restart case does not apply).
#include <memory>
#include <string_view>
#include <tuple>

#include <hotstate/transports/local.hpp>

namespace {

struct local_fixture {
    using transport = hotstate::transports::local;
    std::shared_ptr<hotstate::transports::local_bus> bus = std::make_shared<hotstate::transports::local_bus>();
    transport make(std::uint64_t) { return transport(bus); }
    static bool ready(transport&) { return true; }  // attached by start()
    void inject(std::string_view bytes) { transport(bus).send(bytes); }
};

}  // namespace

using hotstate_transport_fixtures = std::tuple<local_fixture>;
#include "coordinator/conformance/transport_conformance.hpp"
