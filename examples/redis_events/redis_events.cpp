// Two nodes of a mail cluster tell each other that accounts went over quota,
// with a user-defined event, over Redis: first with pub/sub (fire and forget;
// a loss is reported to on_gap), then with a Redis Stream (durable; each node
// keeps a cursor and resumes after a crash). on_connection reports the
// connection's ups and downs; connect_on_start makes a wrong address or
// password fail in the constructor instead of in the background.
//
//   redis_events redis://127.0.0.1:6379
#include "quota_event.hpp"  // the event: needs only <boost/hana/define_struct.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include <hotstate/coordinator.hpp>
#include <hotstate/transports/redis_pubsub.hpp>
#include <hotstate/transports/redis_streams.hpp>

/// The channel binds the event to a name, which identifies it on the wire.
using quota_alerts = hotstate::channel<"quota-exceeded", quota_exceeded>;

/// What the receiving node sees; its handlers run on the transport's thread.
struct inbox {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::string> over_quota;
    bool connected = false;

    template <class Rep, class Period, class Condition>
    bool wait_for(std::chrono::duration<Rep, Period> limit, Condition condition) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, limit, [&] { return condition(*this); });
    }
};

/// Node "imap1" receives, node "mx1" publishes three alerts over `Transport`.
template <class Transport>
bool exchange(const std::string& title, Transport mx1_transport, Transport imap1_transport) {
    using node = hotstate::coordinator<Transport, quota_alerts>;
    node mx1({.node_id = 1}, std::move(mx1_transport));
    node imap1({.node_id = 2}, std::move(imap1_transport));

    inbox box;
    imap1.template subscribe<quota_exceeded>([&](const quota_exceeded& alert, const hotstate::delivery& from) {
        std::scoped_lock lock(box.mutex);
        std::cout << title << ": imap1 refuses mail to " << alert.account << " (" << alert.used_bytes << " of "
                  << alert.limit_bytes << " bytes, says node " << from.publisher << ")\n";
        box.over_quota.push_back(alert.account);
        box.changed.notify_all();
    });
    imap1.on_gap([&](const hotstate::gap& gap) {
        // events may be missing: reload the quota table from the database
        std::cout << title << ": imap1 may have missed " << gap.lost_events << " events: " << gap.detail << "\n";
    });
    for (node* n : {&mx1, &imap1})
        n->on_connection([&, n](const hotstate::connection_event& event) {
            std::scoped_lock lock(box.mutex);
            std::cout << title << ": node " << n->node_id() << " " << hotstate::to_string(event.state);
            if (event.problem) std::cout << ": " << event.problem->what();
            std::cout << "\n";
            if (n == &imap1 && event.state == hotstate::connection_state::connected) box.connected = true;
            box.changed.notify_all();
        });
    imap1.start();
    mx1.start();
    // pub/sub keeps nothing for a subscriber that is not there yet: wait for it
    if (!box.wait_for(std::chrono::seconds{10}, [](const inbox& b) { return b.connected; })) return false;

    mx1.publish(quota_exceeded{"alice@example.org", 5'368'709'120, 5'368'709'120});
    mx1.publish(quota_exceeded{"bob@example.org", 1'073'741'900, 1'073'741'824});
    mx1.publish(quota_exceeded{"carol@example.org", 2'147'483'700, 2'147'483'648});
    const bool all = box.wait_for(std::chrono::seconds{10}, [](const inbox& b) { return b.over_quota.size() == 3; });
    mx1.stop();
    imap1.stop();
    std::cout << title << ": imap1 received " << box.over_quota.size() << " of 3\n";
    return all;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " redis://host:port\n";
        return 2;
    }
    hotstate::redis::config settings;
    settings.url = argv[1];
    settings.node.timeout = std::chrono::seconds{2};
    settings.connect_on_start = true;  // a wrong address or password throws from the constructors below
    try {
        hotstate::transports::redis_pubsub_options pubsub;
        pubsub.channel = "example:quota";
        const bool pubsub_ok = exchange("redis_pubsub", hotstate::transports::redis_pubsub(settings, pubsub),
                                        hotstate::transports::redis_pubsub(settings, pubsub));

        hotstate::transports::redis_streams_options mx1_stream, imap1_stream;
        mx1_stream.stream = imap1_stream.stream = "example:quota-stream";
        mx1_stream.cursor_key = "example:cursor:mx1";  // one cursor per node
        imap1_stream.cursor_key = "example:cursor:imap1";
        const bool streams_ok =
            exchange("redis_streams", hotstate::transports::redis_streams(settings, mx1_stream),
                     hotstate::transports::redis_streams(settings, imap1_stream));
        return pubsub_ok && streams_ok ? 0 : 1;
    } catch (const hotstate::error& e) {
        std::cerr << "redis_events: " << e.what() << "\n";  // e.g. errc::authentication: never the password
        return 1;
    }
}
