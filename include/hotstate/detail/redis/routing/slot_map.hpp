// hotstate/detail/redis/routing/slot_map.hpp: which node serves which hash slot.
//
// Built from the ranges of a CLUSTER SLOTS reply (see slots_reply.hpp for the
// parsing edge), patched slot by slot on MOVED, and rebuilt when a refresh is
// due. The cluster router publishes each version as an immutable snapshot
// (cluster_router.hpp: routing_table), so this is the table production routes
// with. Lookups are two array indexes: routing a key costs a CRC16 and loads.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/detail/redis/proto/slots_reply.hpp>

namespace hotstate::detail::redis::routing {

/// The routing table: slot -> master node (and replicas), nodes numbered densely
/// so a client can keep one connection pool per node index.
class slot_map {
public:
    /// Node index meaning "nobody serves this slot".
    static constexpr std::uint16_t unassigned = std::numeric_limits<std::uint16_t>::max();

    slot_map() { owner_.fill(unassigned); }

    /// Builds the map from the ranges of CLUSTER SLOTS; ranges listed later win
    /// where they overlap (a reply never overlaps; a merge of two might).
    [[nodiscard]] static slot_map from_ranges(std::span<const slot_range> ranges) {
        slot_map map;
        for (const auto& range : ranges) {
            if (range.first > range.last || range.last >= slot_count) continue;
            const std::uint16_t group = map.group_for(range.master, range.replicas);
            for (std::uint32_t slot = range.first; slot <= range.last; ++slot) map.owner_[slot] = group;
        }
        return map;
    }

    /// Whether every one of the 16384 slots has a master.
    [[nodiscard]] bool covers_all_slots() const noexcept {
        return std::none_of(owner_.begin(), owner_.end(), [](std::uint16_t g) { return g == unassigned; });
    }

    /// Index of the master node serving `slot`, or `unassigned`.
    [[nodiscard]] std::uint16_t master_of(std::uint16_t slot) const noexcept {
        const std::uint16_t group = owner_[slot & (slot_count - 1)];
        return group == unassigned ? unassigned : groups_[group].master;
    }

    /// Index of a node that may serve a read of `slot`: one of its replicas picked
    /// by `spread` (any number that varies between calls), or the master when it
    /// has none.
    [[nodiscard]] std::uint16_t reader_of(std::uint16_t slot, std::size_t spread) const noexcept {
        const std::uint16_t group = owner_[slot & (slot_count - 1)];
        if (group == unassigned) return unassigned;
        const auto& g = groups_[group];
        if (g.replicas.empty()) return g.master;
        return g.replicas[spread % g.replicas.size()];
    }

    /// Points `slot` at `master` (a MOVED answer), adding the node when new.
    void assign(std::uint16_t slot, const node_address& master) {
        owner_[slot & (slot_count - 1)] = group_for(master, {});
    }

    /// Every node the map knows, masters and replicas; indexes are stable for
    /// the life of this map.
    [[nodiscard]] const std::vector<node_address>& nodes() const noexcept { return nodes_; }

    /// Indexes of the nodes that serve at least one slot as master.
    [[nodiscard]] std::vector<std::uint16_t> masters() const {
        std::vector<std::uint16_t> result;
        std::vector<bool> seen(groups_.size(), false);
        for (const std::uint16_t group : owner_) {
            if (group == unassigned || seen[group]) continue;
            seen[group] = true;
            if (std::find(result.begin(), result.end(), groups_[group].master) == result.end())
                result.push_back(groups_[group].master);
        }
        return result;
    }

    /// Index of `address` among nodes(), or `unassigned`.
    [[nodiscard]] std::uint16_t find(const node_address& address) const noexcept {
        const auto it = std::find(nodes_.begin(), nodes_.end(), address);
        return it == nodes_.end() ? unassigned : static_cast<std::uint16_t>(it - nodes_.begin());
    }

    /// Index of `address`, added when new.
    std::uint16_t intern(const node_address& address) {
        const std::uint16_t found = find(address);
        if (found != unassigned) return found;
        nodes_.push_back(address);
        return static_cast<std::uint16_t>(nodes_.size() - 1);
    }

private:
    struct slot_group {
        std::uint16_t master;
        std::vector<std::uint16_t> replicas;
    };

    std::uint16_t group_for(const node_address& master, std::span<const node_address> replicas) {
        const std::uint16_t master_index = intern(master);
        std::vector<std::uint16_t> replica_indexes;
        replica_indexes.reserve(replicas.size());
        for (const auto& replica : replicas) replica_indexes.push_back(intern(replica));
        for (std::size_t i = 0; i < groups_.size(); ++i) {
            auto& g = groups_[i];
            if (g.master != master_index) continue;
            // a MOVED patch knows no replicas: reuse the master's existing group
            if (replica_indexes.empty() || g.replicas == replica_indexes) return static_cast<std::uint16_t>(i);
        }
        groups_.push_back(slot_group{master_index, std::move(replica_indexes)});
        return static_cast<std::uint16_t>(groups_.size() - 1);
    }

    std::array<std::uint16_t, slot_count> owner_{};
    std::vector<slot_group> groups_;
    std::vector<node_address> nodes_;
};

}  // namespace hotstate::detail::redis::routing
