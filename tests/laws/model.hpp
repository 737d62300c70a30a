// The laws: one set of Catch2 template test cases per capability concept,
// run by every model of that concept (Boost.Hana's law checkers). A model is
// a test fixture over one backend (or front end, or transport) that states
// the capabilities it has; it runs exactly the laws of those capabilities.
//
//   capability     concept it stands for                       laws
//   key_value      KeyValueBackend (backend.hpp)               key_value.hpp
//   erase_prefix   PrefixEraseBackend (the store's erase_all)  key_value.hpp
//   take           TakeBackend                                 take.hpp
//   counters       CounterBackend (fixed windows come from it) counters.hpp
//   rate_limits    RateLimitBackend (GCRA)                     rate_limits.hpp
//   locks          LockBackend                                 locks.hpp
//   lookups        LookupBackend                               lookups.hpp
//   pipelines      PipelineBackend                             pipelines.hpp
//   queue          QueueBackend (queue.hpp) / async_job_queue  queue.hpp
//   queue_admin    job_queue's bulk, dead-letter and purge     queue.hpp
//   differential   all six store concepts, not the reference   differential.hpp
//   transport, durable, server_restart (transport.hpp's family: transport_model.hpp)
// and laws that are not one concept's: a queue on replicated Redis under
// failover (queue_failover.hpp), at most once under CLIENT KILL (client_kill.hpp).
// The asynchronous front end runs the store's and the queue's laws through
// async_front.hpp; signatures.cpp pairs its calls with the blocking ones.
//
// Registering a model (one translation unit per model, e.g. tests/memory/conformance_memory.cpp):
//
//   using hotstate_law_models = std::tuple<laws::model<memory_fixture, laws::store_capabilities, laws::queues>>;
//   #include "laws/store.hpp"
//
// laws/store.hpp brings every law of the store's family (the store
// capabilities, pipelines where hiredis is there, the queue, the differential
// law), each run for the models that state its capability. What a model
// states is checked against what its backend models, by the concepts: a
// capability the backend models but the model does not state (so its laws
// would not run) is a compile error, and so is one it states but the backend
// lacks (tests/laws/compile_fail proves both).
//
// A store fixture F (default-constructible, one per test case, starting empty;
// laws/fixture.hpp gives the clock part) offers:
//   template <class... Cs> std::unique_ptr<Store> make_store();  a store (or async_front) over the model
//   void pass(std::chrono::milliseconds);  advance the clock the model reads (a manual clock)
//   static constexpr bool expires_in_real_time;  true for servers with their own clock
//   std::chrono::milliseconds short_ttl();  a TTL that expires soon after pass(short_ttl())
//   hotstate::manual_clock clock;  the differential law's reference runs on it
//   [static constexpr bool manual_rate_clock = false;]  rate limits read the system clock
//                                                       (async_store), so the laws bound their timing
//
// Every public member of hotstate::store, async_store, job_queue,
// async_job_queue and coordinator is called by at least one law, and every
// test that runs laws is labelled `conformance`: the test laws_cover_the_api
// (laws/cover_the_api.cmake) reads the public headers' documented member
// names and the tests' CMake lists, and fails naming what is left out.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <catch2/catch.hpp>

#include <hotstate/backend.hpp>
#include <hotstate/backends/compiled.hpp>
#include <hotstate/backends/memory.hpp>
#include <hotstate/category.hpp>
#include <hotstate/queue.hpp>

namespace laws {

// ---- capabilities ----------------------------------------------------------

struct key_value {};
struct erase_prefix {};
struct take {};
struct counters {};
struct rate_limits {};
struct locks {};
struct lookups {};
struct pipelines {};
struct queue {};
struct queue_admin {};
/// Not a concept of its own: a backend with every store capability that is not
/// the embedded reference runs the differential law against it (differential.hpp).
struct differential {};

/// A list of capabilities (nested lists are flattened).
template <class... Caps>
struct capabilities {};

/// The six capabilities every stock store backend has, with delete by prefix.
using store_capabilities = capabilities<key_value, erase_prefix, take, counters, rate_limits, locks, lookups>;
/// The store capabilities of a store that cannot list its keys (memcached): no delete by prefix.
using store_capabilities_without_prefix_erase = capabilities<key_value, take, counters, rate_limits, locks, lookups>;
/// A backend that also holds job queues (with job_queue's every operation).
using queues = capabilities<queue, queue_admin>;

namespace detail {

template <class... Lists>
struct concat;
template <>
struct concat<> {
    using type = capabilities<>;
};
template <class... A>
struct concat<capabilities<A...>> {
    using type = capabilities<A...>;
};
template <class... A, class... B, class... Rest>
struct concat<capabilities<A...>, capabilities<B...>, Rest...> : concat<capabilities<A..., B...>, Rest...> {};

template <class Cap>
struct flatten_one {
    using type = capabilities<Cap>;
};
template <class... Caps>
struct flatten_one<capabilities<Caps...>> : concat<typename flatten_one<Caps>::type...> {};

template <class Cap, class List>
inline constexpr bool in_list = false;
template <class Cap, class... Caps>
inline constexpr bool in_list<Cap, capabilities<Caps...>> = (std::is_same_v<Cap, Caps> || ...);

/// A category no store registers: it stands in where a concept needs an operation's type.
struct probe_category : hotstate::category<255, "laws-probe"> {};

/// Stands for an operation of hotstate::redis::ops in the PipelineBackend check
/// (the backends declare pipeline's result type, so the check reads no body).
struct probe_op {
    using category = probe_category;
    using result_type = bool;
    static constexpr bool idempotent = true;
};

}  // namespace detail

/// Whether the pipeline code of backend `B` can run in this translation unit:
/// compiled<Engine> declares pipeline() everywhere but runs it only where the
/// engine's header is included (tests/compiled); elsewhere it does not offer it.
template <class B>
inline constexpr bool pipelines_run_here = true;
template <class Engine>
inline constexpr bool pipelines_run_here<hotstate::backends::compiled<Engine>> = hotstate::detail::defined_here<Engine>;

/// Whether `B` is the embedded backend the differential law compares with.
template <class B>
inline constexpr bool is_reference = false;
template <class C>
inline constexpr bool is_reference<hotstate::backends::basic_memory<C>> = true;

/// Whether the front end or backend `B` offers capability `Cap`, by the concepts.
/// A front end other than hotstate::store (the async one) specialises `offers_of`.
template <class B>
struct offers_of {
    template <class Cap>
    static constexpr bool offers() {
        if constexpr (std::is_same_v<Cap, key_value>) return hotstate::KeyValueBackend<B>;
        else if constexpr (std::is_same_v<Cap, erase_prefix>) return hotstate::PrefixEraseBackend<B>;
        else if constexpr (std::is_same_v<Cap, take>) return hotstate::TakeBackend<B>;
        else if constexpr (std::is_same_v<Cap, counters>) return hotstate::CounterBackend<B>;
        else if constexpr (std::is_same_v<Cap, rate_limits>) return hotstate::RateLimitBackend<B>;
        else if constexpr (std::is_same_v<Cap, locks>) return hotstate::LockBackend<B>;
        else if constexpr (std::is_same_v<Cap, lookups>) return hotstate::LookupBackend<B>;
        else if constexpr (std::is_same_v<Cap, pipelines>)
            return hotstate::PipelineBackend<B, detail::probe_op> && pipelines_run_here<B>;
        else if constexpr (std::is_same_v<Cap, queue> || std::is_same_v<Cap, queue_admin>)
            return hotstate::QueueBackend<B>;
        else if constexpr (std::is_same_v<Cap, differential>)
            return hotstate::TakeBackend<B> && hotstate::RateLimitBackend<B> && hotstate::LockBackend<B> &&
                   hotstate::LookupBackend<B> && !is_reference<B>;
        else return false;
    }
};

/// Every capability of the store's family, the order of the check.
using store_family =
    capabilities<key_value, erase_prefix, take, counters, rate_limits, locks, lookups, pipelines, queue, queue_admin,
                 differential>;

// ---- models ------------------------------------------------------------------

/// What `F::make_store` makes: hotstate::store<Backend, Cs...> or a front end like it.
template <class F, class... Cs>
using store_of = typename std::pointer_traits<decltype(std::declval<F&>().template make_store<Cs...>())>::element_type;

/// The fixture `F` as a model stating capabilities `Caps` (capability tags or lists of them).
template <class F, class... Caps>
struct model : F {
    using fixture = F;
    using stated = typename detail::flatten_one<capabilities<Caps...>>::type;
    using backend_type = typename store_of<F, detail::probe_category>::backend_type;

    /// Whether the model states `Cap`: its laws run.
    template <class Cap>
    static constexpr bool states = detail::in_list<Cap, stated>;
    /// Whether its backend (or front end) has `Cap`, read from the concepts.
    template <class Cap>
    static constexpr bool offers = offers_of<backend_type>::template offers<Cap>();
};

/// The compile-time check of one model and one capability (its name is the
/// first line of the error when they disagree).
template <class Model, class Cap>
struct capability_check {
    static_assert(!Model::template offers<Cap> || Model::template states<Cap>,
                  "laws: the model's backend has this capability but the model does not state it, so its laws "
                  "would not run: add it to the model's capabilities");
    static_assert(Model::template offers<Cap> || !Model::template states<Cap>,
                  "laws: the model states a capability its backend does not have");
    static constexpr bool ok = true;
};

template <class Model, class Family>
struct family_check;
template <class Model, class... Caps>
struct family_check<Model, capabilities<Caps...>> {
    static constexpr bool ok = (capability_check<Model, Caps>::ok && ...);
};

template <class Cap, class Models, class Family>
struct models_with_impl;
template <class Cap, class... Models, class Family>
struct models_with_impl<Cap, std::tuple<Models...>, Family> {
    static_assert((family_check<Models, Family>::ok && ...));
    using type = decltype(std::tuple_cat(
        std::declval<std::conditional_t<Models::template states<Cap>, std::tuple<Models>, std::tuple<>>>()...));
};

/// The models of `Models` (a std::tuple) that state `Cap`, each checked first
/// against every capability of its `Family`.
template <class Cap, class Models, class Family = store_family>
using models_with = typename models_with_impl<Cap, Models, Family>::type;

/// Whether model `F` states `Cap` (for the parts of a law that need a second capability).
template <class F, class Cap>
inline constexpr bool has = F::template states<Cap>;

/// Whether `F` reads rate limits by a manual clock (every blocking model) or the system clock.
template <class F>
constexpr bool manual_rate_clock() {
    if constexpr (requires { F::manual_rate_clock; }) return F::manual_rate_clock;
    else return true;
}

// ---- registration ------------------------------------------------------------

/// The name of type `T` as the compiler spells it.
template <class T>
constexpr std::string_view type_name() {
    std::string_view text = __PRETTY_FUNCTION__;
    text.remove_prefix(text.find("T = ") + 4);
    return text.substr(0, text.find_first_of(";]"));
}

/// A model's name in a law's test case name: its fixture's type.
template <class M>
std::string model_name() {
    std::string name;
    if constexpr (requires { typename M::fixture; }) name = type_name<typename M::fixture>();
    else name = type_name<M>();
    constexpr std::string_view anonymous = "{anonymous}::";
    if (name.starts_with(anonymous)) name.erase(0, anonymous.size());
    return name;
}

namespace detail {

/// Registers `Law::run<M>` with Catch for every model M of `Models` (none: nothing).
template <class Law, class... Models>
int register_law(std::tuple<Models...>*, [[maybe_unused]] const char* name, [[maybe_unused]] const char* tags,
                 [[maybe_unused]] const Catch::SourceLineInfo& line) {
    (Catch::AutoReg(Catch::makeTestInvoker(&Law::template run<Models>), line, Catch::StringRef(),
                    Catch::NameAndTags{std::string(name) + " - " + model_name<Models>(), tags}),
     ...);
    return 0;
}

}  // namespace detail

}  // namespace laws

/// A law: a test case run once for every model of `Models` (a std::tuple of
/// models, laws::models_with<...>), the model as `TestType`; Catch2's
/// TEMPLATE_LIST_TEST_CASE, except that no model at all registers nothing.
#define HOTSTATE_LAW(Name, Tags, Models) \
    HOTSTATE_LAW_2(INTERNAL_CATCH_UNIQUE_NAME(hotstate_law_), INTERNAL_CATCH_UNIQUE_NAME(hotstate_law_registrar_), \
                   Name, Tags, Models)
#define HOTSTATE_LAW_2(Law, Registrar, Name, Tags, Models)                                                       \
    namespace {                                                                                                   \
    struct Law {                                                                                                  \
        template <class TestType>                                                                                 \
        static void run();                                                                                        \
    };                                                                                                            \
    const int Registrar = ::laws::detail::register_law<Law>(static_cast<Models*>(nullptr), Name, Tags,           \
                                                             CATCH_INTERNAL_LINEINFO);                            \
    }                                                                                                             \
    template <class TestType>                                                                                     \
    void Law::run()

/// A law over what `Make(fixture)` makes (a std::unique_ptr): the body sees the
/// model as `fixture` and the thing made as `s`, both made afresh for every run
/// (every SECTION) of the test case.
#define HOTSTATE_LAW_OVER(Name, Tags, Models, Make)                                                               \
    HOTSTATE_LAW_OVER_2(INTERNAL_CATCH_UNIQUE_NAME(hotstate_law_), INTERNAL_CATCH_UNIQUE_NAME(hotstate_law_registrar_), \
                        Name, Tags, Models, Make)
#define HOTSTATE_LAW_OVER_2(Law, Registrar, Name, Tags, Models, Make)                                            \
    namespace {                                                                                                   \
    struct Law {                                                                                                  \
        template <class TestType>                                                                                 \
        static void run() {                                                                                       \
            TestType fixture;                                                                                     \
            auto made = Make(fixture);                                                                            \
            body(fixture, *made);                                                                                 \
        }                                                                                                         \
        template <class TestType, class Made>                                                                     \
        static void body(TestType& fixture, Made& s);                                                             \
    };                                                                                                            \
    const int Registrar = ::laws::detail::register_law<Law>(static_cast<Models*>(nullptr), Name, Tags,           \
                                                             CATCH_INTERNAL_LINEINFO);                            \
    }                                                                                                             \
    template <class TestType, class Made>                                                                         \
    void Law::body([[maybe_unused]] TestType& fixture, [[maybe_unused]] Made& s)
