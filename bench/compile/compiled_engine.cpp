// The one TU a program adds when it uses compiled<redis>: the engine's code,
// compiled once. bench/compile/run.sh times it; redis_bench links it for its
// "compiled" side.
#include <hotstate/backends/compiled_definitions.hpp>
#include <hotstate/backends/redis.hpp>

template class hotstate::backends::compiled<hotstate::backends::redis>;
