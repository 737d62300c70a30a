// The exchange state machine (detail/redis/proto/exchange.hpp) without I/O: a
// table of event sequences and the decisions they lead to, for plain,
// scripted, transactional, pipelined and redirected commands, idempotent and
// not. Replies are hand-made hiredis reply structs; nothing is sent anywhere.
#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>

namespace commands = hotstate::detail::redis::commands;
namespace proto = hotstate::detail::redis::proto;
using proto::decision;
using proto::failure;
using proto::form;
using proto::next;
using proto::part;
using proto::verdict;
using hotstate::redis::reply_view;
using namespace std::chrono_literals;

namespace {

/// A reply made by hand: type and text (status, error, bulk) or integer.
struct fake_reply {
    redisReply raw{};
    std::string text;
    fake_reply(int type, std::string body) : text(std::move(body)) {
        raw.type = type;
        raw.str = text.data();
        raw.len = text.size();
    }
    [[nodiscard]] reply_view view() const { return reply_view(&raw); }
    [[nodiscard]] bool is_error() const { return raw.type == REDIS_REPLY_ERROR; }
};
fake_reply ok() { return {REDIS_REPLY_STATUS, "OK"}; }
fake_reply queued() { return {REDIS_REPLY_STATUS, "QUEUED"}; }
fake_reply bulk(std::string text) { return {REDIS_REPLY_STRING, std::move(text)}; }
fake_reply err(std::string text) { return {REDIS_REPLY_ERROR, std::move(text)}; }

constexpr hotstate::redis::retry_policy cluster_budget{3, 10ms, 40ms};

/// Feeds `replies` (one round) to `ex` for its commands; returns the parts and
/// verdicts as text, "fallback" marking the commands whose outcome asked for it.
template <std::size_t N, bool R>
std::vector<std::string> run_round(proto::exchange<N, R>& ex, const std::vector<fake_reply>& replies,
                                   const std::vector<bool>& wants_fallback_at = {}) {
    std::vector<std::string> trace;
    ex.round_written();
    const fake_reply* kept = nullptr;
    for (const auto& r : replies) {
        REQUIRE_FALSE(ex.round_read());
        const std::size_t i = ex.at();
        const part p = ex.on_reply(r.is_error());
        if (p == part::more) {
            trace.emplace_back("more");
            continue;
        }
        if (p == part::keep) {
            kept = &r;
            trace.emplace_back("keep");
            continue;
        }
        const fake_reply& outcome = p == part::kept_outcome ? *kept : r;
        kept = nullptr;
        const bool fallback = i < wants_fallback_at.size() && wants_fallback_at[i];
        switch (ex.judge(outcome.view(), fallback, "127.0.0.1")) {
            case verdict::deliver: trace.push_back("deliver " + std::to_string(i) + " " + outcome.text); break;
            case verdict::fallback: trace.push_back("fallback " + std::to_string(i)); break;
            case verdict::redirected: trace.push_back("redirected " + std::to_string(i)); break;
        }
    }
    CHECK(ex.round_read());
    return trace;
}

using trace = std::vector<std::string>;

}  // namespace

TEST_CASE("exchange: a plain command's reply is its outcome", "[exchange]") {
    auto ex = proto::exchange_of<false>(commands::get("k"));
    CHECK(ex.writes(0));
    CHECK(ex.form_of(0) == form::first);
    CHECK_FALSE(ex.asking());
    CHECK(ex.round_replies() == 1);
    CHECK(run_round(ex, {bulk("v")}) == trace{"deliver 0 v"});
    CHECK(ex.after_round() == next::done);
    CHECK_FALSE(ex.sent());
}

TEST_CASE("exchange: an error reply on a single server is delivered (the command says what it means)", "[exchange]") {
    auto ex = proto::exchange_of<false>(commands::get("k"));
    CHECK(run_round(ex, {err("MOVED 3999 127.0.0.1:7001")}) == trace{"deliver 0 MOVED 3999 127.0.0.1:7001"});
    CHECK(ex.after_round() == next::done);
}

TEST_CASE("exchange: NOSCRIPT makes the script's fallback the next round, on the same connection", "[exchange]") {
    const commands::gcra check("k", 1, 2, 3, 1);
    auto ex = proto::exchange_of<false>(check);
    CHECK(run_round(ex, {err("NOSCRIPT No matching script")}, {true}) == trace{"fallback 0"});
    CHECK(ex.form_of(0) == form::fallback);
    CHECK(ex.after_round() == next::write);
    CHECK(ex.writes(0));
    CHECK_FALSE(ex.first_round());
    CHECK(run_round(ex, {bulk("[1,0,5]")}) == trace{"deliver 0 [1,0,5]"});
    CHECK(ex.after_round() == next::done);
}

TEST_CASE("exchange: the requests of each form", "[exchange]") {
    const commands::gcra check("k", 1, 2, 3, 1);
    std::string first, fallback;
    proto::write_request(first, check, form::first);
    proto::write_request(fallback, check, form::fallback);
    CHECK(first.find("EVALSHA") != std::string::npos);
    CHECK(fallback.find("EVAL\r\n") != std::string::npos);
    CHECK(proto::wants_fallback(check, form::first, err("NOSCRIPT No matching script").view()));
    CHECK_FALSE(proto::wants_fallback(check, form::fallback, err("NOSCRIPT No matching script").view()));
    CHECK_FALSE(proto::wants_fallback(commands::get("k"), form::first, err("NOSCRIPT x").view()));

    const commands::lock_release release("k", "owner", 7);
    std::string resend, resend_fallback;
    proto::write_request(resend, release, form::resend);
    proto::write_request(resend_fallback, release, form::resend_fallback);
    CHECK(resend.find("EVALSHA") != std::string::npos);
    CHECK(resend_fallback.find("EVAL\r\n") != std::string::npos);
    CHECK(proto::wants_fallback(release, form::resend, err("NOSCRIPT No matching script").view()));
    CHECK_FALSE(proto::wants_fallback(release, form::first, err("NOSCRIPT No matching script").view()));
}

TEST_CASE("exchange: a transaction's replies frame into one outcome; its first error is the outcome", "[exchange]") {
    const commands::increment with_expiry("k", 1, 60000);
    SECTION("all queued") {
        auto ex = proto::exchange_of<false>(with_expiry);
        CHECK(ex.round_replies() == 4);
        CHECK(run_round(ex, {ok(), queued(), queued(), bulk("exec")}) == trace{"more", "more", "more", "deliver 0 exec"});
    }
    SECTION("a queued error") {
        auto ex = proto::exchange_of<false>(with_expiry);
        CHECK(run_round(ex, {ok(), err("WRONGTYPE x"), queued(), err("EXECABORT y")}) ==
              trace{"more", "keep", "more", "deliver 0 WRONGTYPE x"});
    }
    SECTION("without an expiry it is one command") {
        auto ex = proto::exchange_of<false>(commands::increment("k", 1, 0));
        CHECK(ex.round_replies() == 1);
        CHECK(run_round(ex, {bulk("1")}) == trace{"deliver 0 1"});
    }
}

TEST_CASE("exchange: redirects on a route that follows them", "[exchange][redirect]") {
    SECTION("MOVED: at once, after a refresh") {
        auto ex = proto::exchange_of<true>(commands::get("k"), cluster_budget);
        CHECK(run_round(ex, {err("MOVED 3999 127.0.0.1:7001")}) == trace{"redirected 0"});
        CHECK(ex.redirect().kind == hotstate::detail::redis::routing::failure_kind::moved);
        CHECK(ex.redirect().slot == 3999);
        const decision d = ex.on_redirect();
        CHECK(d.retry);
        CHECK_FALSE(d.fresh);
        CHECK(d.refresh);
        CHECK(d.wait == 0ms);
        CHECK_FALSE(d.ask);
        CHECK(ex.writes(0));
        CHECK(run_round(ex, {bulk("v")}) == trace{"deliver 0 v"});
    }
    SECTION("ASK: ASKING first in every round of the next attempt, its reply framed as the command's") {
        const commands::gcra check("k", 1, 2, 3, 1);
        auto ex = proto::exchange_of<true>(check, cluster_budget);
        CHECK(run_round(ex, {err("ASK 3999 :7002")}) == trace{"redirected 0"});
        const decision d = ex.on_redirect();
        REQUIRE(d.ask);
        CHECK(d.ask->host == "127.0.0.1");  // the replying host fills in an empty one
        CHECK(d.ask->port == 7002);
        CHECK(ex.asking());
        CHECK(ex.round_replies() == 2);
        CHECK(run_round(ex, {ok(), err("NOSCRIPT x")}, {true}) == trace{"more", "fallback 0"});
        CHECK(ex.after_round() == next::write);
        CHECK(ex.asking());  // the fallback needs its own ASKING
        CHECK(run_round(ex, {ok(), bulk("r")}) == trace{"more", "deliver 0 r"});
    }
    SECTION("TRYAGAIN and CLUSTERDOWN back off, doubling, until the budget is spent") {
        auto ex = proto::exchange_of<true>(commands::get("k"), cluster_budget);
        std::vector<std::chrono::milliseconds> waits;
        for (int i = 0; i < 3; ++i) {
            CHECK(run_round(ex, {err(i % 2 ? "CLUSTERDOWN The cluster is down" : "TRYAGAIN x")}) == trace{"redirected 0"});
            const decision d = ex.on_redirect();
            REQUIRE(d.retry);
            waits.push_back(d.wait);
        }
        CHECK(waits == std::vector<std::chrono::milliseconds>{10ms, 20ms, 40ms});
        CHECK(run_round(ex, {err("LOADING x")}) == trace{"redirected 0"});
        const decision last = ex.on_redirect();
        CHECK_FALSE(last.retry);
        CHECK_FALSE(last.outcome_unknown);  // nothing of it ran anywhere
        CHECK(ex.retries() == 3);
    }
    SECTION("an error that is not a redirect is delivered") {
        auto ex = proto::exchange_of<true>(commands::get("k"), cluster_budget);
        CHECK(run_round(ex, {err("WRONGTYPE x")}) == trace{"deliver 0 WRONGTYPE x"});
    }
    SECTION("a transaction's queued MOVED is its outcome, and a redirect") {
        auto ex = proto::exchange_of<true>(commands::increment("k", 1, 1000), cluster_budget);
        CHECK(run_round(ex, {ok(), err("MOVED 1 127.0.0.1:7001"), err("MOVED 1 127.0.0.1:7001"),
                             err("EXECABORT x")}) == trace{"more", "keep", "more", "redirected 0"});
    }
}

TEST_CASE("exchange: a failure before any byte left is retried whatever the command does", "[exchange][failure]") {
    auto ex = proto::exchange_of<false>(commands::incr_by("k", 1));
    ex.round_written();
    const decision d = ex.on_failure(failure::lost, false);
    CHECK(d.retry);
    CHECK(d.fresh);
    CHECK(ex.writes(0));
    CHECK(ex.form_of(0) == form::first);
    SECTION("the budget of a single server is one retry") {
        const decision again = ex.on_failure(failure::lost, false);
        CHECK_FALSE(again.retry);
        CHECK_FALSE(again.outcome_unknown);  // never sent: certainly not applied
    }
    SECTION("a retry that may have reached the server leaves a once command's outcome unknown") {
        const decision again = ex.on_failure(failure::lost, true);
        CHECK_FALSE(again.retry);
        CHECK(again.outcome_unknown);
    }
}

TEST_CASE("exchange: a once command that may have reached the server is never sent again", "[exchange][failure]") {
    for (const failure why : {failure::lost, failure::timed_out}) {
        auto ex = proto::exchange_of<true>(commands::take("k"), cluster_budget);
        ex.round_written();
        const decision d = ex.on_failure(why, true);
        CHECK_FALSE(d.retry);
        CHECK(d.outcome_unknown);
    }
}

TEST_CASE("exchange: an idempotent command whose reply was lost goes again on a fresh connection", "[exchange][failure]") {
    auto ex = proto::exchange_of<false>(commands::set("k", "v"));
    ex.round_written();
    const decision d = ex.on_failure(failure::lost, true);
    CHECK(d.retry);
    CHECK(d.fresh);
    CHECK(ex.sent());
    SECTION("answered: done") { CHECK(run_round(ex, {ok()}) == trace{"deliver 0 OK"}); }
    SECTION("lost again: the budget is spent, and the outcome is unknown, for an idempotent command too") {
        const decision again = ex.on_failure(failure::lost, false);
        CHECK_FALSE(again.retry);
        CHECK(again.outcome_unknown);  // the first send may have been applied
    }
}

TEST_CASE("exchange: a single server that timed out is not asked again; a route may look elsewhere", "[exchange][failure]") {
    auto single = proto::exchange_of<false>(commands::get("k"));
    single.round_written();
    const decision d = single.on_failure(failure::timed_out, true);
    CHECK_FALSE(d.retry);
    CHECK(d.outcome_unknown);
    auto routed = proto::exchange_of<true>(commands::get("k"), cluster_budget);
    routed.round_written();
    const decision r = routed.on_failure(failure::timed_out, true);
    CHECK(r.retry);
    CHECK(r.fresh);
    CHECK(r.refresh);
    CHECK(r.wait == 10ms);
}

TEST_CASE("exchange: an unreachable node is retried on a route, never counted as sent", "[exchange][failure]") {
    auto ex = proto::exchange_of<true>(commands::take("k"), cluster_budget);
    for (int i = 0; i < 3; ++i) {
        const decision d = ex.on_failure(failure::unreachable, false);
        REQUIRE(d.retry);
        CHECK_FALSE(d.fresh);
        CHECK(d.refresh);
    }
    const decision last = ex.on_failure(failure::unreachable, false);
    CHECK_FALSE(last.retry);
    CHECK_FALSE(last.outcome_unknown);
}

TEST_CASE("exchange: a release sent again after a lost reply is its resend form, and that form's fallback", "[exchange][locks]") {
    const commands::lock_release release("k", "owner", 7);
    auto ex = proto::exchange_of<false>(release);
    ex.round_written();
    const decision d = ex.on_failure(failure::lost, true);
    REQUIRE(d.retry);
    CHECK(ex.form_of(0) == form::resend);
    CHECK(run_round(ex, {err("NOSCRIPT x")}, {true}) == trace{"fallback 0"});
    CHECK(ex.form_of(0) == form::resend_fallback);
    CHECK(ex.after_round() == next::write);
    CHECK(run_round(ex, {bulk("1")}) == trace{"deliver 0 1"});
}

TEST_CASE("exchange: a release after one whose outcome stayed unknown starts in its resend form", "[exchange][locks]") {
    const commands::lock_release again("k", "owner", 7, true);  // release() called again after one that threw
    auto ex = proto::exchange_of<false>(again);
    CHECK(ex.form_of(0) == form::resend);
    std::string written;
    proto::write_request(written, again, ex.form_of(0));
    std::string script;
    commands::lock_release_again("k", "owner", 7).write(script);
    CHECK(written == script);  // EVALSHA of the script that tells a release of its own that ran
    CHECK(run_round(ex, {err("NOSCRIPT x")}, {true}) == trace{"fallback 0"});
    CHECK(ex.form_of(0) == form::resend_fallback);
    CHECK(ex.after_round() == next::write);
    CHECK(run_round(ex, {bulk("1")}) == trace{"deliver 0 1"});
    const commands::lock_release first("k", "owner", 7);
    CHECK(proto::exchange_of<false>(first).form_of(0) == form::first);  // HDEL
}

TEST_CASE("exchange: a redirect keeps the resend form (an earlier send may have run)", "[exchange][locks]") {
    auto ex = proto::exchange_of<true>(commands::lock_release("k", "owner", 7), cluster_budget);
    ex.round_written();
    REQUIRE(ex.on_failure(failure::lost, true).retry);
    CHECK(run_round(ex, {err("MOVED 5 127.0.0.1:7003")}) == trace{"redirected 0"});
    REQUIRE(ex.on_redirect().retry);
    CHECK(ex.form_of(0) == form::resend);
}

TEST_CASE("exchange: a pipeline frames every command's replies in order", "[exchange][pipeline]") {
    const commands::get get("a");
    const commands::increment incr("b", 1, 1000);
    const commands::gcra check("c", 1, 2, 3, 1);
    proto::exchange<3, false> ex({proto::traits_of(get), proto::traits_of(incr), proto::traits_of(check)});
    CHECK(ex.round_replies() == 6);
    CHECK(run_round(ex, {bulk("va"), ok(), queued(), queued(), bulk("exec"), err("NOSCRIPT x")}, {false, false, true}) ==
          trace{"deliver 0 va", "more", "more", "more", "deliver 1 exec", "fallback 2"});
    REQUIRE(ex.after_round() == next::write);
    CHECK_FALSE(ex.writes(0));
    CHECK_FALSE(ex.writes(1));
    CHECK(ex.writes(2));
    CHECK(ex.round_replies() == 1);
    CHECK(run_round(ex, {bulk("r")}) == trace{"deliver 2 r"});
    CHECK(ex.after_round() == next::done);
}

TEST_CASE("exchange: a pipeline goes again whole only when every command is idempotent", "[exchange][pipeline]") {
    const commands::get get("a");
    const commands::set set("b", "v");
    const commands::incr_by incr("c", 1);
    SECTION("all idempotent") {
        proto::exchange<2, false> ex({proto::traits_of(get), proto::traits_of(set)});
        ex.round_written();
        REQUIRE(ex.on_reply(false) == part::outcome);
        CHECK(ex.judge(bulk("va").view(), false) == verdict::deliver);  // one reply in, then the connection dies
        CHECK_FALSE(ex.round_read());
        const decision d = ex.on_failure(failure::lost, true);
        CHECK(d.retry);
        CHECK(ex.writes(0));  // the delivered one goes again too: the runner forgets its results
        CHECK(ex.writes(1));
    }
    SECTION("one is not") {
        proto::exchange<3, false> ex({proto::traits_of(get), proto::traits_of(set), proto::traits_of(incr)});
        ex.round_written();
        const decision d = ex.on_failure(failure::lost, true);
        CHECK_FALSE(d.retry);
        CHECK(d.outcome_unknown);
    }
    SECTION("a group without the once command (a cluster node's share) may go again") {
        proto::exchange<3, false> ex({proto::traits_of(get), proto::traits_of(set), proto::traits_of(incr)},
                                     proto::one_retry(), [](std::size_t i) { return i != 2; });
        CHECK_FALSE(ex.writes(2));
        CHECK(ex.round_replies() == 2);
        ex.round_written();
        CHECK(ex.on_failure(failure::lost, true).retry);
        CHECK_FALSE(ex.writes(2));
    }
}

TEST_CASE("exchange: a pipeline on a route defers its redirected commands", "[exchange][pipeline][redirect]") {
    const commands::get a("a"), b("b");
    proto::exchange<2, true> ex({proto::traits_of(a), proto::traits_of(b)}, cluster_budget);
    CHECK(run_round(ex, {err("MOVED 1 127.0.0.1:7001"), bulk("vb")}) == trace{"redirected 0", "deliver 1 vb"});
    CHECK(ex.after_round() == next::done);
    CHECK(ex.redirected(0));
    CHECK_FALSE(ex.redirected(1));
}
