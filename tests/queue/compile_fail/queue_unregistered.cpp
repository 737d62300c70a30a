// A queue the store does not list cannot be used through it.
#include <hotstate/queue/memory_queue.hpp>
#include <hotstate/store.hpp>

struct webhooks : hotstate::queue_category<60, "webhooks"> {};
struct sessions : hotstate::category<61, "sessions"> {};

hotstate::store<hotstate::backends::memory, sessions> s;
auto q = hotstate::queue<webhooks>(s);
