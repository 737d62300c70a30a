// Context of the README's "Durable job queues" blocks: the application
// function the worker calls.
#pragma once

#include <string>

void post_webhook(const std::string& url, const std::string& body);
