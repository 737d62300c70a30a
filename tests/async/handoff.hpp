// A completion token for tests that wait on an asynchronous operation from
// another thread (tests/async): like use_future, but the result crosses the
// threads as plain data, so no exception object is shared between them. A
// queue's lease_lost crosses as itself (its job id included); an operation
// completing with void(std::exception_ptr) gives a std::monostate.
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>

#include <boost/asio/async_result.hpp>

#include <hotstate/error.hpp>
#include <hotstate/queue.hpp>

namespace hotstate::testing {

/// The completion token tests wait with. Like use_future, except that
/// the result crosses threads as plain data: a failure is read on the
/// io_context's thread (kind, message, outcome_unknown) and thrown anew on the
/// waiting one, so no exception object is shared between the threads.
/// (libstdc++'s exception_ptr counts its references out of ThreadSanitizer's
/// sight, so an exception read on one thread and freed on the other is a race
/// to it.)
struct handoff_t {};
inline constexpr handoff_t handoff{};

/// What the handler hands over (see handoff_t).
template <class T>
class handoff_slot {
public:
    void complete(std::exception_ptr e, T value) {
        std::optional<errc> kind;
        std::string text;
        std::optional<std::string> lost_job;
        bool unknown = false;
        std::optional<std::string> owner_token;  ///< a lock_outcome_unknown's
        const bool failed = static_cast<bool>(e);
        if (failed) {
            try {
                std::rethrow_exception(std::move(e));
            } catch (const lock_outcome_unknown& x) {
                kind = x.kind();
                text = x.message();
                unknown = true;
                owner_token = x.owner_token();
            } catch (const lease_lost& x) {
                kind = x.kind();
                text = x.message();
                lost_job = x.job_id();
            } catch (const error& x) {
                kind = x.kind();
                text = x.message();
                unknown = x.outcome_unknown();
            } catch (const std::exception& x) {
                text = x.what();
            } catch (...) {
                text = "an exception that is not a std::exception";
            }
        }
        std::scoped_lock guard(mutex_);
        failed_ = failed;
        kind_ = kind;
        text_ = std::move(text);
        lost_job_ = std::move(lost_job);
        unknown_ = unknown;
        owner_token_ = std::move(owner_token);
        if (!failed_) value_.emplace(std::move(value));
        done_ = true;
        ready_.notify_one();
    }
    T get() {
        std::unique_lock guard(mutex_);
        ready_.wait(guard, [&] { return done_; });
        if (failed_ && owner_token_)
            throw lock_outcome_unknown(error::with_unknown_outcome(*kind_, text_), std::move(*owner_token_));
        if (failed_ && lost_job_) throw lease_lost(text_, *lost_job_);
        if (failed_ && kind_) throw unknown_ ? error::with_unknown_outcome(*kind_, text_) : error(*kind_, text_);
        if (failed_) throw std::runtime_error(text_);
        return std::move(*value_);
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    bool done_ = false;
    bool failed_ = false;
    std::optional<T> value_;
    std::optional<errc> kind_;  ///< set for a hotstate::error
    std::string text_;
    std::optional<std::string> lost_job_;  ///< set for a queue's lease_lost
    bool unknown_ = false;
    std::optional<std::string> owner_token_;
};

/// The result of an operation started with `handoff`: get() waits for it.
template <class T>
class handoff_result {
public:
    explicit handoff_result(std::shared_ptr<handoff_slot<T>> slot) : slot_(std::move(slot)) {}
    T get() { return slot_->get(); }

private:
    std::shared_ptr<handoff_slot<T>> slot_;
};

}  // namespace hotstate::testing

template <class T>
struct boost::asio::async_result<hotstate::testing::handoff_t, void(std::exception_ptr, T)> {
    using return_type = hotstate::testing::handoff_result<T>;
    template <class Initiation, class... Args>
    static return_type initiate(Initiation&& initiation, hotstate::testing::handoff_t, Args&&... args) {
        auto slot = std::make_shared<hotstate::testing::handoff_slot<T>>();
        std::move(initiation)([slot](std::exception_ptr e, T value) { slot->complete(std::move(e), std::move(value)); },
                              std::forward<Args>(args)...);
        return return_type(slot);
    }
};

template <>
struct boost::asio::async_result<hotstate::testing::handoff_t, void(std::exception_ptr)> {
    using return_type = hotstate::testing::handoff_result<std::monostate>;
    template <class Initiation, class... Args>
    static return_type initiate(Initiation&& initiation, hotstate::testing::handoff_t, Args&&... args) {
        auto slot = std::make_shared<hotstate::testing::handoff_slot<std::monostate>>();
        std::move(initiation)([slot](std::exception_ptr e) { slot->complete(std::move(e), std::monostate{}); },
                              std::forward<Args>(args)...);
        return return_type(slot);
    }
};
