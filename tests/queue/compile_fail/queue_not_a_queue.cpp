// A plain key category is not a queue.
#include <hotstate/queue/memory_queue.hpp>
#include <hotstate/store.hpp>

struct sessions : hotstate::category<61, "sessions"> {};

hotstate::store<hotstate::backends::memory, sessions> s;
auto q = hotstate::queue<sessions>(s);
