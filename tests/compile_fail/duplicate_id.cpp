// Two categories with one prefix id in one store must not compile, and the
// error must name both (a third category between them, with its own id, shows
// that the pair named is the clashing one).
#include <cstdint>

#include <hotstate/backends/memory.hpp>
#include <hotstate/store.hpp>

struct oauth_codes : hotstate::category<7, "oauth-codes"> {};
struct login_hits : hotstate::category<8, "login-hits", std::int64_t> {};
struct acme_tokens : hotstate::category<7, "acme-tokens"> {};

hotstate::store<hotstate::backends::memory, oauth_codes, login_hits, acme_tokens> s;
