// A backend with key/value only, to show what sharded does with a shard that
// lacks a capability: sharded models exactly what all its shards model.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include <hotstate/backend.hpp>
#include <hotstate/backends/memory.hpp>

struct kv_only_backend {
    using config_type = hotstate::backends::memory_config;
    explicit kv_only_backend(config_type = {}) {}
    hotstate::time_point now() const { return hotstate::system_clock{}.now(); }
    void kv_set(std::string_view, std::string_view, std::chrono::milliseconds) {}
    template <class Sink>
    bool kv_get(std::string_view, Sink&&) { return false; }
    bool kv_del(std::string_view) { return false; }
    bool kv_exists(std::string_view) { return false; }
    std::uint64_t kv_del_prefix(std::string_view) { return 0; }
};
