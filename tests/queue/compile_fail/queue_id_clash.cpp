// A queue takes a prefix id from the store's list: one that a key category of
// the same store already has must not compile, and the error names both.
#include <hotstate/queue/memory_queue.hpp>
#include <hotstate/store.hpp>

struct webhooks : hotstate::queue_category<60, "webhooks"> {};
struct sessions : hotstate::category<60, "sessions"> {};

hotstate::store<hotstate::backends::memory, webhooks, sessions> s;
