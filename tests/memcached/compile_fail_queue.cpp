// memcached holds no job queues: a job_queue over it must not compile.
#include <string>

#include <hotstate/backends/memcached.hpp>
#include <hotstate/queue.hpp>
#include <hotstate/store.hpp>

struct mails : hotstate::queue_category<60, "mc-mails", std::string> {};
struct sessions : hotstate::category<1, "mc-sessions"> {};

#ifdef HOTSTATE_CONTROL
void use(hotstate::store<hotstate::backends::memcached, sessions>& s) { s.set<sessions>("k", "v"); }
#else
void use(hotstate::store<hotstate::backends::memcached, mails>& s) {
    hotstate::job_queue<hotstate::store<hotstate::backends::memcached, mails>, mails> queue(s);
    (void)queue;
}
#endif
