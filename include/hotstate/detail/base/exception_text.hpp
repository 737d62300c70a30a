// hotstate/detail/base/exception_text.hpp: the message of whatever user code threw.
//
// Handlers and codecs are the user's: they may throw a hotstate::error, any
// std::exception, or something that is no exception class at all. Where
// hotstate catches them (a queue worker failing a job, the coordinator
// refusing an event), this gives the text it reports.
#pragma once

#include <exception>
#include <string>

namespace hotstate::detail {

/// The message of the exception being handled (call it inside a catch block):
/// what() of a std::exception, a fixed text for anything else thrown.
[[nodiscard]] inline std::string current_exception_message() {
    try {
        throw;
    } catch (const std::exception& thrown) {
        return thrown.what();
    } catch (...) {
        return "an exception that is not a std::exception was thrown";
    }
}

}  // namespace hotstate::detail
