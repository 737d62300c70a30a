// The one TU a program adds when it uses compiled<redis>: the engine's code,
// compiled once. bench/compile/run.sh reports its time beside the others.
#include <hotstate/backends/compiled_definitions.hpp>
#include <hotstate/backends/redis.hpp>

template class hotstate::backends::compiled<hotstate::backends::redis>;
