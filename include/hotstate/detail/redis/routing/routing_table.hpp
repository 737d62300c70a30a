// hotstate/detail/redis/routing/routing_table.hpp: one published routing
// table of a cluster client: the slot_map and its per-slot answer in the
// client's own node numbering, made once per version. Shared by the blocking
// router (cluster_router.hpp) and the asynchronous one
// (detail/async/routing/cluster_route.hpp), which both publish it as an immutable
// snapshot.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/detail/redis/routing/slot_map.hpp>

namespace hotstate::detail::redis::routing {

/// One published routing table: the slot_map, for each of its nodes the
/// router's index of that node (the map numbers nodes its own way), and the
/// map's answer for every slot in the router's numbering, worked out once when
/// the table is made (map.master_of per slot), so a lookup is one load.
struct routing_table {
    slot_map map;
    std::vector<std::uint16_t> router_index;
    std::array<std::uint16_t, slot_count> master{};

    routing_table() { master.fill(slot_map::unassigned); }
    explicit routing_table(slot_map from) : map(std::move(from)) { master.fill(slot_map::unassigned); }

    /// Fills `master` from the map (router_index must cover its nodes).
    void compile() noexcept {
        for (std::size_t slot = 0; slot < slot_count; ++slot) {
            const std::uint16_t in_map = map.master_of(static_cast<std::uint16_t>(slot));
            master[slot] = in_map == slot_map::unassigned ? in_map : router_index[in_map];
        }
    }
    /// The router's index of the master serving `slot`, or slot_map::unassigned.
    [[nodiscard]] std::uint16_t master_of(std::uint16_t slot) const noexcept { return master[slot & (slot_count - 1)]; }
};

}  // namespace hotstate::detail::redis::routing
