// The transport laws over the in-process transport (no server: nothing to restart).
#include <memory>
#include <string_view>
#include <tuple>

#include <hotstate/transports/local.hpp>

#include "laws/transport_model.hpp"

namespace {

struct local_fixture {
    using transport = hotstate::transports::local;
    std::shared_ptr<hotstate::transports::local_bus> bus = std::make_shared<hotstate::transports::local_bus>();
    transport make(std::uint64_t) { return transport(bus); }
    static bool ready(transport&) { return true; }  // attached by start()
    void inject(std::string_view bytes) { transport(bus).send(bytes); }
};

}  // namespace

using hotstate_transport_models = std::tuple<laws::transport_model<local_fixture, laws::transport>>;
#include "laws/transport.hpp"
