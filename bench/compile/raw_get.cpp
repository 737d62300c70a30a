// The hand-written baseline: the headers hotstate builds on (Hana, fmt,
// hiredis) and one raw GET. bench/compile/run.sh times its compilation.
#include <boost/hana.hpp>
#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <optional>
#include <string>

std::optional<std::string> read_code(redisContext* context) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "GET %b", "\x01" "code-1", std::size_t{7}));
    if (reply == nullptr) return std::nullopt;
    std::optional<std::string> value;
    if (reply->type == REDIS_REPLY_STRING) value.emplace(reply->str, reply->len);
    freeReplyObject(reply);
    return value;
}
