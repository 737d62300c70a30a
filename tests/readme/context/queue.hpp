// Context of the README's "Durable job queues" blocks: the application
// function the worker calls.
#pragma once

#include <string>

void post_webhook(const std::string& url, const std::string& body);

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <boost/asio/detail/config.hpp>
#if defined(BOOST_ASIO_HAS_CO_AWAIT)  // a compiler without Asio's coroutines builds no async block
#include <boost/asio/awaitable.hpp>

/// The asynchronous HTTP call the async worker's handler awaits.
boost::asio::awaitable<void> async_post_webhook(const std::string& url, const std::string& body);
#endif
