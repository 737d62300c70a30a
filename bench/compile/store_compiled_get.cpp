// A user's translation unit over the separately compiled Redis backend: a
// store over compiled<backends::redis> with three categories and one get. The
// engine's code is compiled once elsewhere (compiled_definitions.hpp);
// bench/compile/run.sh times this TU's compilation.
#include <hotstate/backends/compiled.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/store.hpp>

#include <optional>
#include <string>

namespace cat = hotstate::categories;
using redis_backend = hotstate::backends::compiled<hotstate::backends::redis>;

std::optional<std::string> read_code(hotstate::store<redis_backend, cat::oauth, cat::rate_limit_auth, cat::lock_task>& store) {
    return store.get<cat::oauth>("code-1");
}
