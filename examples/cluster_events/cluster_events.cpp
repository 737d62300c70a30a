// Three nodes of a mail cluster tell each other what happened, over the
// in-process transport (swap in transports::redis_pubsub or redis_streams and
// the same code runs across machines).
#include <cstdint>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <hotstate/coordinator.hpp>
#include <hotstate/events.hpp>
#include <hotstate/transports/local.hpp>

using node_coordinator =
    hotstate::coordinator<hotstate::transports::local, hotstate::channels::state_changes,
                          hotstate::channels::blocked_ips, hotstate::channels::certificates>;

/// What one node keeps in memory and updates from its peers' events.
struct node {
    std::string name;
    std::mutex mutex;
    std::set<std::string> firewall;
    std::vector<std::string> log;
    std::unique_ptr<node_coordinator> coordinator;

    node(std::string node_name, std::uint64_t id, const std::shared_ptr<hotstate::transports::local_bus>& bus)
        : name(std::move(node_name)),
          coordinator(std::make_unique<node_coordinator>(hotstate::coordinator_options{.node_id = id},
                                                         hotstate::transports::local(bus))) {
        // handlers run on the delivering thread: guard the node's state
        coordinator->subscribe<hotstate::events::blocked_ip>([this](const hotstate::events::blocked_ip& ip) {
            std::scoped_lock guard(mutex);
            std::string text;
            for (std::size_t i = 0; i < ip.address.size(); ++i) text += (i ? "." : "") + std::to_string(ip.address[i]);
            firewall.insert(text);
            log.push_back("blocks " + text);
        });
        coordinator->subscribe<hotstate::events::state_change>([this](const hotstate::events::state_change& change) {
            std::scoped_lock guard(mutex);
            log.push_back("wakes IDLE sessions of account " + std::to_string(change.account_id) +
                          (change.has(hotstate::events::changed_type::email) ? " (new email)" : ""));
        });
        coordinator->subscribe<hotstate::events::certificate_available>(
            [this](const hotstate::events::certificate_available& certificate) {
                std::scoped_lock guard(mutex);
                log.push_back("reloads the certificate of " + certificate.domain);
            });
        coordinator->start();
    }
};

int main() {
    auto bus = std::make_shared<hotstate::transports::local_bus>();
    node mx1("mx1", 1, bus), mx2("mx2", 2, bus), imap1("imap1", 3, bus);

    std::cout << "mx1: 5 failed logins from 203.0.113.9, blocking it cluster-wide\n";
    mx1.coordinator->publish(hotstate::events::blocked_ip{{203, 0, 113, 9}, 32, std::nullopt});
    std::cout << "mx2: delivered a message to account 42\n";
    mx2.coordinator->publish(hotstate::events::state_change{
        42, 1001, static_cast<std::uint64_t>(hotstate::events::changed_type::email)});
    std::cout << "imap1: renewed the certificate of mail.example.org\n";
    imap1.coordinator->publish(hotstate::events::certificate_available{"mail.example.org", "cert-2026-11"});

    for (node* n : {&mx1, &mx2, &imap1}) n->coordinator->flush();
    for (node* n : {&mx1, &mx2, &imap1}) {
        std::scoped_lock guard(n->mutex);
        for (const auto& line : n->log) std::cout << "   " << n->name << " " << line << "\n";
    }
    bool each_heard_the_other_two = true;
    for (node* n : {&mx1, &mx2, &imap1}) {
        n->coordinator->stop();
        std::scoped_lock guard(n->mutex);
        each_heard_the_other_two = each_heard_the_other_two && n->log.size() == 2;
    }
    std::cout << (each_heard_the_other_two ? "every node heard every other node once, and none heard itself\n"
                                           : "a node missed an event or heard its own\n");
    return each_heard_the_other_two ? 0 : 1;
}
