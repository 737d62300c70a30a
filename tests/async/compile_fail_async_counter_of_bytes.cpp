// Must not compile: async_increment on a category that stores bytes.
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>

struct bytes_category : hotstate::category<40, "bytes"> {};
struct number : hotstate::category<41, "number", std::int64_t> {};

void use(boost::asio::io_context& io) {
    hotstate::async_store<hotstate::backends::async_redis, bytes_category, number> store(io.get_executor(),
                                                                                          hotstate::redis::config{});
#ifdef HOTSTATE_CONTROL
    (void)store.async_increment<number>("k", 1, std::nullopt, boost::asio::use_future);
#else
    (void)store.async_increment<bytes_category>("k", 1, std::nullopt, boost::asio::use_future);
#endif
}
