// Two categories with one prefix id in one store must not compile.
#include <hotstate/backends/memory.hpp>
#include <hotstate/store.hpp>

struct first : hotstate::category<7, "first"> {};
struct second : hotstate::category<7, "second"> {};

hotstate::store<hotstate::backends::memory, first, second> s;
