// The blocking and asynchronous front ends take the same arguments, with the
// same defaults, and give the same results, call for call: the list of pairs,
// checked at compile time (this file builds, or the build fails naming the
// pair). Each async call is the blocking one with a completion token last;
// what it completes with is compared with what the blocking call returns.
//
// Pairs that differ on purpose are listed last, each with its reason.
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <boost/asio/async_result.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>
#include <hotstate/backends/redis.hpp>
#include <hotstate/queue/redis_queue.hpp>
#include <hotstate/queue.hpp>
#include <hotstate/queue/async_worker.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

namespace signatures {

/// A completion token that makes an async call's type say what it completes with.
struct probe_t {};
inline constexpr probe_t probe{};
template <class... T>
struct completes_with {};

struct text : hotstate::category<1, "sig-text"> {};
struct number : hotstate::category<2, "sig-number", std::int64_t> {};
struct jobs : hotstate::queue_category<3, "sig-jobs"> {};

using blocking = hotstate::store<hotstate::backends::redis, text, number, jobs>;
using async = hotstate::async_store<hotstate::backends::async_redis, text, number, jobs>;

// Unevaluated operands only: these are never defined.
blocking& s();
async& a();
std::string_view k();
std::string v();
hotstate::ttl expiry();
std::int64_t by();
std::chrono::milliseconds lease();
hotstate::fixed_window window();
hotstate::gcra gcra();
hotstate::rate_check mode();

/// The type a blocking call returns equals the one its async pair completes with.
template <class Blocking, class Async>
inline constexpr bool same_result = std::is_same_v<completes_with<Blocking>, Async>;

}  // namespace signatures

template <class... T>
struct boost::asio::async_result<signatures::probe_t, void(std::exception_ptr, T...)> {
    using return_type = signatures::completes_with<T...>;
    template <class Initiation, class... Args>
    static return_type initiate(Initiation&&, signatures::probe_t, Args&&...) {
        return {};  // never started: the calls above are only named in decltype
    }
};

namespace signatures {

#define HOTSTATE_SAME_CALL(BLOCKING, ASYNC)                                                   \
    static_assert(same_result<decltype(BLOCKING), decltype(ASYNC)>, "blocking and async differ: " #BLOCKING " ~ " #ASYNC)

// key/value
HOTSTATE_SAME_CALL(s().get<text>(k()), a().async_get<text>(k(), probe));
HOTSTATE_SAME_CALL(s().take<text>(k()), a().async_take<text>(k(), probe));
HOTSTATE_SAME_CALL(s().erase<text>(k()), a().async_erase<text>(k(), probe));
HOTSTATE_SAME_CALL(s().exists<text>(k()), a().async_exists<text>(k(), probe));
HOTSTATE_SAME_CALL(s().erase_all<text>(), a().async_erase_all<text>(probe));
HOTSTATE_SAME_CALL(s().erase_all<text>(k()), a().async_erase_all<text>(k(), probe));
// counters
HOTSTATE_SAME_CALL(s().increment<number>(k()), a().async_increment<number>(k(), probe));
HOTSTATE_SAME_CALL(s().increment<number>(k(), by()), a().async_increment<number>(k(), by(), probe));
HOTSTATE_SAME_CALL(s().increment<number>(k(), by(), expiry()), a().async_increment<number>(k(), by(), expiry(), probe));
HOTSTATE_SAME_CALL(s().counter<number>(k()), a().async_counter<number>(k(), probe));
// rate limits
HOTSTATE_SAME_CALL(s().check_rate<number>(k(), window()), a().async_check_rate<number>(k(), window(), probe));
HOTSTATE_SAME_CALL(s().check_rate<number>(k(), window(), mode()), a().async_check_rate<number>(k(), window(), mode(), probe));
HOTSTATE_SAME_CALL(s().check_rate<number>(k(), gcra()), a().async_check_rate<number>(k(), gcra(), probe));
HOTSTATE_SAME_CALL(s().check_rate<number>(k(), gcra(), by()), a().async_check_rate<number>(k(), gcra(), by(), probe));
// lookups
HOTSTATE_SAME_CALL(s().lookup_add<text>(k(), k()), a().async_lookup_add<text>(k(), k(), probe));
HOTSTATE_SAME_CALL(s().lookup_remove<text>(k(), k()), a().async_lookup_remove<text>(k(), k(), probe));
HOTSTATE_SAME_CALL(s().lookup_contains<text>(k(), k()), a().async_lookup_contains<text>(k(), k(), probe));
HOTSTATE_SAME_CALL(s().lookup_get<text>(k(), k()), a().async_lookup_get<text>(k(), k(), probe));
HOTSTATE_SAME_CALL(s().lookup_erase<text>(k(), k()), a().async_lookup_erase<text>(k(), k(), probe));
// pipelines
namespace ops = hotstate::redis::ops;
HOTSTATE_SAME_CALL(s().pipeline(ops::get<text>{k()}, ops::incr<number>{k(), 1}),
                   a().async_pipeline(ops::get<text>{k()}, ops::incr<number>{k(), 1}, probe));
// locks: the same arguments; each front end's own lock type (hotstate::lock, async_lock)
// holds it, with the same owner and fencing tokens; release and extend take it
// first on the async store (an async_lock does not reach its store by itself)
using blocking_lock = hotstate::lock<blocking, text>;
using async_lock = hotstate::async_lock<async, text>;
static_assert(std::is_same_v<decltype(s().try_lock<text>(k(), lease())), std::optional<blocking_lock>>);
static_assert(std::is_same_v<decltype(a().async_try_lock<text>(k(), lease(), probe)), completes_with<std::optional<async_lock>>>);
blocking_lock& held();
async_lock& async_held();
HOTSTATE_SAME_CALL(held().release(), a().async_release<text>(async_held(), probe));
HOTSTATE_SAME_CALL(held().extend(lease()), a().async_extend<text>(async_held(), lease(), probe));
HOTSTATE_SAME_CALL(held().fencing_token(), (completes_with<decltype(async_held().fencing_token())>{}));
HOTSTATE_SAME_CALL(held().owner_token(), (completes_with<decltype(async_held().owner_token())>{}));

// Differ on purpose:
// - set and lookup_set return nothing; their async pairs complete with the
//   server's answer (SET: true; HSET: whether the field is new). Same arguments:
static_assert(std::is_void_v<decltype(s().set<text>(k(), v()))> &&
              std::is_same_v<decltype(a().async_set<text>(k(), v(), probe)), completes_with<bool>>);
static_assert(std::is_void_v<decltype(s().set<text>(k(), v(), expiry()))> &&
              std::is_same_v<decltype(a().async_set<text>(k(), v(), expiry(), probe)), completes_with<bool>>);
static_assert(std::is_void_v<decltype(s().lookup_set<text>(k(), k(), v()))> &&
              std::is_same_v<decltype(a().async_lookup_set<text>(k(), k(), v(), probe)), completes_with<bool>>);
// - store::now() has no async pair: async_store's rate limits read the system
//   clock, not the backend's (tests/laws/counters.hpp bounds their timing).
// - The job queues (hotstate/queue.hpp and hotstate/queue/async_worker.hpp) pair
//   enqueue ~ async_enqueue, claim ~ async_claim then async_wait, ack ~ async_ack,
//   fail ~ async_fail, heartbeat ~ async_heartbeat, release ~ async_release,
//   counts ~ async_counts, ack_and_claim ~ async_ack_and_claim, and still differ:
//   async_fail does
//   not complete with whether the job was dead-lettered, async_heartbeat does
//   not update the job's lease_until, and the async queue has no enqueue_bulk,
//   dead-letter list or purge (capability queue, not queue_admin, in the laws).
using blocking_queue = hotstate::job_queue<blocking, jobs>;
using async_queue = hotstate::async_job_queue<async, jobs>;
blocking_queue& q();
async_queue& aq();
hotstate::claimed<std::string>& job();
HOTSTATE_SAME_CALL(q().enqueue(v(), {}), aq().async_enqueue(v(), {}, probe));
HOTSTATE_SAME_CALL(q().enqueue(v()), aq().async_enqueue(v(), probe));
HOTSTATE_SAME_CALL(q().claim(), aq().async_claim(probe));
HOTSTATE_SAME_CALL(q().ack_and_claim(job()), aq().async_ack_and_claim(job(), probe));
HOTSTATE_SAME_CALL(q().counts(), aq().async_counts(probe));
static_assert(std::is_same_v<decltype(aq().async_ack(job(), probe)), completes_with<>> &&
              std::is_void_v<decltype(q().ack(job()))>);

#undef HOTSTATE_SAME_CALL

}  // namespace signatures
