// Storing a value of another type than the category declares must not compile.
#include <cstdint>

#include <hotstate/backends/memory.hpp>
#include <hotstate/store.hpp>

struct tokens : hotstate::category<1, "oauth"> {};

void use(hotstate::store<hotstate::backends::memory, tokens>& s) { s.set<tokens>("k", 42); }
