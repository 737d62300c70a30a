// Must not compile: a pipeline on the cluster backend (its keys may live on
// different masters). The control (HOTSTATE_CONTROL) issues the same
// operations one by one, which is what the message recommends.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis_cluster.hpp>

struct hits : hotstate::category<40, "hits", std::int64_t> {};

void use(boost::asio::io_context& io) {
    hotstate::async_store<hotstate::backends::async_redis_cluster, hits> store(io.get_executor(),
                                                                               hotstate::redis::cluster_config{});
#ifdef HOTSTATE_CONTROL
    (void)store.async_increment<hits>("a", 1, std::nullopt, boost::asio::use_future);
    (void)store.async_counter<hits>("b", boost::asio::use_future);
#else
    namespace ops = hotstate::redis::ops;
    (void)store.async_pipeline(ops::incr<hits>{"a", 1}, ops::counter<hits>{"b"}, boost::asio::use_future);
#endif
}
