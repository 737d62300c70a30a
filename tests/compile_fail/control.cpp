// Control: the same includes and a correct use compile, so the failures above
// fail for the reason their message names, not for a broken include.
#include <chrono>
#include <cstdint>

#include <hotstate/backends/memory.hpp>
#include <hotstate/store.hpp>

struct tokens : hotstate::category<1, "oauth"> {};
struct hits : hotstate::category<2, "hits", std::int64_t> {};

void use(hotstate::store<hotstate::backends::memory, tokens, hits>& s) {
    s.set<tokens>("k", "v");
    s.increment<hits>("k");
    auto held = s.try_lock<tokens>("k", std::chrono::seconds{1});
}
