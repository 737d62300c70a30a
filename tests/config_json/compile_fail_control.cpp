// The control of compile_fail_no_json_backend.cpp: the same call with a real backend builds.
#include <hotstate/backends/redis.hpp>
#include <hotstate/json_config.hpp>

void load() { (void)hotstate::load_store_config<hotstate::backends::redis>("{}"); }
