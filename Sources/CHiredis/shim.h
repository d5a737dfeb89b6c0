#ifndef REDIS_GATEWAY_CHIREDIS_SHIM_H
#define REDIS_GATEWAY_CHIREDIS_SHIM_H

// hiredis 0.14.1 (Debian 12). Only the Argv forms are used from Swift; the variadic
// redisCommand family is never called.
#include <hiredis/hiredis.h>
#include <sys/time.h>

/// Bytes written by redisAppendCommandArgv but not yet flushed to the socket.
static inline size_t gw_redis_pending_output(const redisContext *_Nonnull c) {
    return c->obuf == NULL ? 0 : sdslen(c->obuf);
}

/// Bytes read from the socket but not yet parsed into a reply handed to the caller.
static inline size_t gw_redis_pending_input(const redisContext *_Nonnull c) {
    if (c->reader == NULL) { return 0; }
    return c->reader->len - c->reader->pos;
}

/// Builds a timeval from microseconds (Swift cannot name struct timeval's fields portably).
static inline struct timeval gw_timeval_from_microseconds(long long usec) {
    struct timeval tv;
    tv.tv_sec = (time_t)(usec / 1000000);
    tv.tv_usec = (suseconds_t)(usec % 1000000);
    return tv;
}

#endif
