// Context of the README's NATS coordinator block: the application functions it calls.
#pragma once
#include <string>
#include <string_view>

void block_address(const std::string& address);
void reload_blocklist();
void log(std::string_view what, std::string_view detail);
void serve_until_shutdown();
