// Calling a capability the backend does not model must not compile.
#include <chrono>
#include <optional>
#include <string_view>

#include <hotstate/store.hpp>

// A backend with key/value only: no locks.
struct kv_only {
    hotstate::time_point now() const { return {}; }
    void kv_set(std::string_view, std::string_view, std::chrono::milliseconds) {}
    template <class Sink> bool kv_get(std::string_view, Sink&&) { return false; }
    bool kv_del(std::string_view) { return false; }
    bool kv_exists(std::string_view) { return false; }
    std::uint64_t kv_del_prefix(std::string_view) { return 0; }
};
static_assert(hotstate::KeyValueBackend<kv_only>);

struct task : hotstate::category<23, "lock-task"> {};

void use(hotstate::store<kv_only, task>& s) { auto held = s.try_lock<task>("k", std::chrono::seconds{1}); }
