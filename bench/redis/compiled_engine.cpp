// The Redis engine compiled once for redis_bench's "compiled" side, in its own
// TU as a program would: the store's calls reach it through compiled<redis>.
#include <hotstate/backends/compiled_definitions.hpp>
#include <hotstate/backends/redis.hpp>

template class hotstate::backends::compiled<hotstate::backends::redis>;
