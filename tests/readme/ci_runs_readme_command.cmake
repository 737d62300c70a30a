# cmake -DSOURCE_DIR=<repo> -P ci_runs_readme_command.cmake
# Fails unless .ci/run runs, on a line of its own, exactly the test command
# README.md tells a user to run: what CI proves is what the README promises.
file(READ "${SOURCE_DIR}/README.md" readme)
if(NOT readme MATCHES "Run the whole test suite[^\n]*\n\n```sh\n([^\n]+)\n```")
  message(FATAL_ERROR "README.md: no ```sh block after \"Run the whole test suite\"")
endif()
set(command "${CMAKE_MATCH_1}")
file(READ "${SOURCE_DIR}/.ci/run" ci)
string(FIND "${ci}" "\n${command}\n" at)
if(at EQUAL -1)
  message(FATAL_ERROR ".ci/run does not run README.md's test command:\n  ${command}")
endif()
message(STATUS "CI runs README's test command: ${command}")
