// Using a category the store was not declared with must not compile.
#include <hotstate/backends/memory.hpp>
#include <hotstate/store.hpp>

struct registered : hotstate::category<1, "registered"> {};
struct stranger : hotstate::category<2, "stranger"> {};

void use(hotstate::store<hotstate::backends::memory, registered>& s) { s.set<stranger>("k", "v"); }
