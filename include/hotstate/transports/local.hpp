// hotstate/transports/local.hpp: the in-process Transport.
//
// Nodes attached to one local_bus exchange messages in memory. For
// single-node programs (the coordinator API without a server) and for tests
// that run several nodes in one process. The messages are the same bytes the
// Redis transports carry, so the format is exercised end to end.
//
// Delivery is synchronous: send() hands the message to every other attached
// node on the calling thread (the thread that sends for the publishing
// coordinator), one message at a time per receiving node. Nothing is lost while attached;
// nothing is kept for a node that is not.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <vector>

#include <hotstate/error.hpp>
#include <hotstate/transport.hpp>

namespace hotstate::transports {

/// The shared medium of transports::local: create one, give it to every node.
class local_bus {
public:
    /// Nodes currently attached (started and not stopped).
    [[nodiscard]] std::size_t attached() const {
        std::shared_lock lock(mutex_);
        return members_.size();
    }

private:
    friend class local;

    struct member {
        const void* owner;  // the transport that attached it: skipped when it sends
        void* sink;
        void (*deliver)(void*, std::string_view);
        std::unique_ptr<std::mutex> serial;  // one message at a time per receiving node
    };

    mutable std::shared_mutex mutex_;
    std::vector<member> members_;
};

/// In-process transport over a local_bus (see the banner above).
class local {
public:
    /// Nothing to retry: an in-memory send cannot fail.
    static constexpr bool durable = false;

    /// A transport attached to `bus` once started.
    explicit local(std::shared_ptr<local_bus> bus) : bus_(std::move(bus)) {
        if (!bus_) throw error(errc::configuration, "hotstate local transport: no bus given");
    }
    local(local&&) noexcept = default;
    local& operator=(local&&) noexcept = default;
    ~local() { stop(); }

    /// Delivers `message` to every other attached node, on this thread.
    void send(std::string_view message) {
        std::shared_lock lock(bus_->mutex_);
        for (auto& member : bus_->members_) {
            if (member.owner == this) continue;
            std::lock_guard serial(*member.serial);
            member.deliver(member.sink, message);
        }
    }

    /// Attaches to the bus: from now on other nodes' messages reach `sink`.
    template <class Sink>
    void start(Sink& sink) {
        std::unique_lock lock(bus_->mutex_);
        bus_->members_.push_back(local_bus::member{
            this, &sink, [](void* target, std::string_view message) { static_cast<Sink*>(target)->on_message(message); },
            std::make_unique<std::mutex>()});
        started_ = true;
    }

    /// Detaches; waits for a delivery in progress to this node to finish.
    void stop() {
        if (!bus_ || !started_) return;
        std::unique_lock lock(bus_->mutex_);
        std::erase_if(bus_->members_, [this](const local_bus::member& m) { return m.owner == this; });
        started_ = false;
    }

private:
    std::shared_ptr<local_bus> bus_;
    bool started_ = false;
};

static_assert(Transport<local>);

}  // namespace hotstate::transports
