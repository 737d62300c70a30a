// A user's translation unit: a store over the standalone Redis backend with
// three categories and one get. bench/compile/run.sh times its compilation.
#include <hotstate/backends/redis.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/store.hpp>

#include <optional>
#include <string>

namespace cat = hotstate::categories;

std::optional<std::string> read_code(
    hotstate::store<hotstate::backends::redis, cat::oauth, cat::rate_limit_auth, cat::lock_task>& store) {
    return store.get<cat::oauth>("code-1");
}
