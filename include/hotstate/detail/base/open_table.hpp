// An open-addressing hash table for the embedded backend's shards.
//
// Why not std::unordered_map: its lookups pay a division (prime bucket counts)
// and three dependent loads (bucket, previous node, node) before the key is
// even compared. Here a lookup is one probe into a power-of-two array of
// {hash, node*} slots, a 64-bit hash compare, and one load of the node, which
// holds its key bytes inline. Linear probing with backward-shift deletion: no
// tombstones, so a table that churns through short-lived keys never degrades.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <utility>

#include <hotstate/detail/base/fast_hash.hpp>

namespace hotstate::detail {

template <class Value>
class open_table {
public:
    /// An entry: its value, then its key bytes in the same allocation.
    class node {
    public:
        Value value{};
        [[nodiscard]] std::string_view key() const noexcept {
            return {reinterpret_cast<const char*>(this + 1), key_size_};
        }

    private:
        friend class open_table;
        explicit node(std::size_t key_size) noexcept : key_size_(key_size) {}
        std::size_t key_size_;
    };

    open_table() = default;
    open_table(const open_table&) = delete;
    open_table& operator=(const open_table&) = delete;
    ~open_table() { clear(); }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t slot_count() const noexcept { return capacity_; }

    /// The node holding `key` (whose hash is `hash`), or nullptr.
    [[nodiscard]] node* find(std::string_view key, std::uint64_t hash) const noexcept {
        if (size_ == 0) return nullptr;
        for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
            const slot& s = slots_[i];
            if (s.item == nullptr) return nullptr;
            if (s.hash == hash && same_key(s.item->key(), key)) return s.item;
        }
    }

    /// Index of the slot holding `key`, or slot_count() when absent.
    [[nodiscard]] std::size_t find_slot(std::string_view key, std::uint64_t hash) const noexcept {
        if (size_ == 0) return capacity_;
        for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
            const slot& s = slots_[i];
            if (s.item == nullptr) return capacity_;
            if (s.hash == hash && same_key(s.item->key(), key)) return i;
        }
    }

    /// Adds `key`, which must be absent; returns its new node (value default-constructed).
    node& insert(std::string_view key, std::uint64_t hash) {
        if ((size_ + 1) * 4 > capacity_ * 3) grow();
        node* fresh = make_node(key);
        place(hash, fresh);
        ++size_;
        return *fresh;
    }

    /// Removes the entry in slot `index`. Entries further along the probe run
    /// shift back, so a caller scanning slots must look at `index` again.
    void erase_at(std::size_t index) noexcept {
        destroy_node(slots_[index].item);
        slots_[index].item = nullptr;
        --size_;
        std::size_t hole = index;
        for (std::size_t j = (hole + 1) & mask_; slots_[j].item != nullptr; j = (j + 1) & mask_) {
            const std::size_t home = slots_[j].hash & mask_;
            // move j into the hole unless its home lies cyclically in (hole, j]
            const bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!stays) {
                slots_[hole] = slots_[j];
                slots_[j].item = nullptr;
                hole = j;
            }
        }
    }

    bool erase(std::string_view key, std::uint64_t hash) noexcept {
        const std::size_t index = find_slot(key, hash);
        if (index == capacity_) return false;
        erase_at(index);
        return true;
    }

    /// The node in slot `index`, or nullptr when the slot is empty.
    [[nodiscard]] node* node_at(std::size_t index) const noexcept { return slots_[index].item; }

    void clear() noexcept {
        for (std::size_t i = 0; i < capacity_; ++i)
            if (slots_[i].item != nullptr) destroy_node(std::exchange(slots_[i].item, nullptr));
        size_ = 0;
    }

    /// Equal bytes; the first byte is compared on its own because encoded keys
    /// are built by a one-byte store followed by a copy, and a wide load across
    /// both would stall.
    static bool same_key(std::string_view a, std::string_view b) noexcept {
        return a.size() == b.size() &&
               (a.empty() || (a[0] == b[0] && equal_chunked(a.data() + 1, b.data() + 1, a.size() - 1)));
    }

private:
    struct slot {
        std::uint64_t hash = 0;
        node* item = nullptr;
    };

    static node* make_node(std::string_view key) {
        void* raw = ::operator new(sizeof(node) + key.size(), std::align_val_t{alignof(node)});
        node* fresh = ::new (raw) node(key.size());
        if (!key.empty()) std::memcpy(reinterpret_cast<char*>(fresh + 1), key.data(), key.size());
        return fresh;
    }

    static void destroy_node(node* item) noexcept {
        item->~node();
        ::operator delete(static_cast<void*>(item), std::align_val_t{alignof(node)});
    }

    void place(std::uint64_t hash, node* item) noexcept {
        std::size_t i = hash & mask_;
        while (slots_[i].item != nullptr) i = (i + 1) & mask_;
        slots_[i] = slot{hash, item};
    }

    void grow() {
        const std::size_t new_capacity = capacity_ == 0 ? 16 : capacity_ * 2;
        auto old = std::exchange(slots_, std::make_unique<slot[]>(new_capacity));
        const std::size_t old_capacity = std::exchange(capacity_, new_capacity);
        mask_ = new_capacity - 1;
        for (std::size_t i = 0; i < old_capacity; ++i)
            if (old[i].item != nullptr) place(old[i].hash, old[i].item);
    }

    std::unique_ptr<slot[]> slots_;
    std::size_t capacity_ = 0;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
};

}  // namespace hotstate::detail
