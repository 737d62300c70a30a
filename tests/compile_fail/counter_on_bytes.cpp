// Counting on a category whose values are bytes must not compile.
#include <hotstate/backends/memory.hpp>
#include <hotstate/store.hpp>

struct tokens : hotstate::category<1, "oauth"> {};

void use(hotstate::store<hotstate::backends::memory, tokens>& s) { s.increment<tokens>("k"); }
