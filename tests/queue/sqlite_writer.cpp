// A writer process of the SQLite durability test: enqueues job-0, job-1, ...
// into the database file it is given and prints each id once its enqueue
// returned, until it is SIGKILLed.
#include <cstdio>
#include <string>

#include <hotstate/queue/sqlite_queue.hpp>

struct jobs : hotstate::queue_category<70, "crash-jobs"> {};

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    hotstate::store<hotstate::backends::sqlite, jobs> store(hotstate::backends::sqlite_config{.path = argv[1]});
    auto queue = hotstate::queue<jobs>(store);
    for (long i = 0;; ++i) {
        const std::string id = "job-" + std::to_string(i);
        queue.enqueue(id, {.id = id});
        std::printf("%s\n", id.c_str());
        std::fflush(stdout);
    }
}
