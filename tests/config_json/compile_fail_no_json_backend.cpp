// A type that is not a backend with a JSON form: one error naming the problem.
#include <hotstate/json_config.hpp>

struct not_a_backend {};

void load() { (void)hotstate::load_store_config<not_a_backend>("{}"); }
