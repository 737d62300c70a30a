// hotstate/categories.hpp: the stock key categories, with the seeds' fixed prefix ids
// (so keys are byte-compatible with a Stalwart deployment sharing the same server).
#pragma once

#include <cstdint>

#include <hotstate/category.hpp>

namespace hotstate::categories {

/// ACME challenge tokens (KV_ACME).
struct acme : category<0, "acme"> {};
/// OAuth authorisation codes (KV_OAUTH).
struct oauth : category<1, "oauth"> {};
/// Rate limit: recipient addresses (KV_RATE_LIMIT_RCPT).
struct rate_limit_rcpt : category<2, "rate-limit-rcpt", std::int64_t> {};
/// Rate limit: email scanning (KV_RATE_LIMIT_SCAN).
struct rate_limit_scan : category<3, "rate-limit-scan", std::int64_t> {};
/// Rate limit: idle connections (KV_RATE_LIMIT_LOITER).
struct rate_limit_loiter : category<4, "rate-limit-loiter", std::int64_t> {};
/// Rate limit and fail2ban: authentication attempts (KV_RATE_LIMIT_AUTH).
struct rate_limit_auth : category<5, "rate-limit-auth", std::int64_t> {};
/// Rate limit: SMTP throttles (KV_RATE_LIMIT_SMTP).
struct rate_limit_smtp : category<6, "rate-limit-smtp", std::int64_t> {};
/// Rate limit: contact forms (KV_RATE_LIMIT_CONTACT).
struct rate_limit_contact : category<7, "rate-limit-contact", std::int64_t> {};
/// Rate limit: authenticated HTTP requests (KV_RATE_LIMIT_HTTP_AUTHENTICATED).
struct rate_limit_http_authenticated : category<8, "rate-limit-http-authenticated", std::int64_t> {};
/// Rate limit: anonymous HTTP requests (KV_RATE_LIMIT_HTTP_ANONYMOUS).
struct rate_limit_http_anonymous : category<9, "rate-limit-http-anonymous", std::int64_t> {};
/// Rate limit: IMAP connections (KV_RATE_LIMIT_IMAP).
struct rate_limit_imap : category<10, "rate-limit-imap", std::int64_t> {};
/// Blob quota accounting (KV_QUOTA_BLOB).
struct quota_blob : category<11, "quota-blob", std::int64_t> {};
/// Spam filter greylist tokens (KV_GREYLIST).
struct greylist : category<16, "greylist"> {};
/// Locks for SMTP message queues (KV_LOCK_QUEUE_MESSAGE).
struct lock_queue_message : category<21, "lock-queue-message"> {};
/// Locks for background tasks (KV_LOCK_TASK).
struct lock_task : category<23, "lock-task"> {};
/// WebDAV locks (KV_LOCK_DAV).
struct lock_dav : category<25, "lock-dav"> {};
/// Sieve auto-responder tracking ids (KV_SIEVE_ID).
struct sieve_id : category<26, "sieve-id"> {};

}  // namespace hotstate::categories
