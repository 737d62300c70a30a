// Test harness, not part of the example: starts a throw-away redis-server on a
// free loopback port (the test suite's support code), runs the program given
// on the command line with the server's URL appended, prints its output and
// exits with its status, so CTest can run the example against a real server.
//
//   run_with_redis_server <program> [args...]
#include <sys/wait.h>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " <program> [args...]\n";
        return 2;
    }
    try {
        hotstate::testing::redis_server server;
        std::vector<std::string> command(argv + 1, argv + argc);
        command.push_back(server.url());
        hotstate::testing::process program(command, server.dir() / "program.log");
        const bool exited = hotstate::testing::eventually([&] { return !program.running(); }, std::chrono::seconds{60});
        std::cout << program.log();
        if (!exited) {
            std::cerr << "run_with_redis_server: " << command.front() << " did not finish within 60 s\n";
            return 1;
        }
        const auto status = program.exit_status();
        return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : 1;
    } catch (const std::exception& e) {
        std::cerr << "run_with_redis_server: " << e.what() << "\n";
        return 1;
    }
}
