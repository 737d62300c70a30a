// The control: the fixtures above with their one mistake fixed must build.
#include <hotstate/queue/memory_queue.hpp>
#include <hotstate/store.hpp>

struct webhooks : hotstate::queue_category<60, "webhooks"> {};
struct sessions : hotstate::category<61, "sessions"> {};

hotstate::store<hotstate::backends::memory, webhooks, sessions> s;
auto q = hotstate::queue<webhooks>(s);
