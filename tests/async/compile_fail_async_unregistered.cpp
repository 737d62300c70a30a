// Must not compile: an async_store call with a category the store does not list.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>

struct listed : hotstate::category<40, "listed"> {};
struct not_listed : hotstate::category<41, "not-listed"> {};

void use(boost::asio::io_context& io) {
    hotstate::async_store<hotstate::backends::async_redis, listed> store(io.get_executor(), hotstate::redis::config{});
#ifdef HOTSTATE_CONTROL
    (void)store.async_get<listed>("k", boost::asio::use_future);
#else
    (void)store.async_get<not_listed>("k", boost::asio::use_future);
#endif
}
