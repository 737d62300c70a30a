// Context of "A first look": the application's own functions the snippet
// calls, declared only (the snippets are compiled, not linked).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

/// Answers the SMTP client "451 try again later".
void reply_451(std::chrono::milliseconds retry_after);
/// Blocks an IP address at the firewall.
void block_ip(const std::string& address);
/// Purges deleted accounts, passing the fencing token to the storage it writes.
void purge(std::uint64_t fencing_token);
