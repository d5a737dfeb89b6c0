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

/// A bound on the memory one reply may take while hiredis' reader builds it: every string, array,
/// integer and nil the reader creates is charged (its bytes, or 8 bytes per element of an array, plus
/// a fixed overhead) before it is allocated, and past `limit` the reader fails the reply as out of
/// memory (REDIS_ERR_OOM) instead of allocating, so an array header of millions of elements is
/// refused before its pointers are. `used` is reset by the caller before each reply.
typedef struct gw_redis_reply_budget {
    size_t limit;                                      // 0: unbounded
    size_t used;
    redisReplyObjectFunctions *_Nullable inner;        // the reader's own functions (hiredis' defaults)
} gw_redis_reply_budget;

enum { GW_REDIS_REPLY_OVERHEAD = 48 };

static inline int gw_redis_charge(const redisReadTask *_Nonnull task, size_t bytes) {
    gw_redis_reply_budget *budget = (gw_redis_reply_budget *)task->privdata;
    if (budget == NULL || budget->limit == 0) return 1;
    budget->used += bytes + GW_REDIS_REPLY_OVERHEAD;
    return budget->used <= budget->limit;
}

static void *_Nullable gw_redis_budget_string(const redisReadTask *_Nonnull task, char *_Nonnull str, size_t len) {
    if (!gw_redis_charge(task, len)) return NULL;
    return ((gw_redis_reply_budget *)task->privdata)->inner->createString(task, str, len);
}

static void *_Nullable gw_redis_budget_array(const redisReadTask *_Nonnull task, int elements) {
    if (!gw_redis_charge(task, elements > 0 ? (size_t)elements * sizeof(void *) : 0)) return NULL;
    return ((gw_redis_reply_budget *)task->privdata)->inner->createArray(task, elements);
}

static void *_Nullable gw_redis_budget_integer(const redisReadTask *_Nonnull task, long long value) {
    if (!gw_redis_charge(task, 0)) return NULL;
    return ((gw_redis_reply_budget *)task->privdata)->inner->createInteger(task, value);
}

static void *_Nullable gw_redis_budget_nil(const redisReadTask *_Nonnull task) {
    if (!gw_redis_charge(task, 0)) return NULL;
    return ((gw_redis_reply_budget *)task->privdata)->inner->createNil(task);
}

/// Puts `budget` in front of the context's reader (its privdata reaches every read task). The
/// budget must outlive the context.
static inline void gw_redis_install_reply_budget(redisContext *_Nonnull c, gw_redis_reply_budget *_Nonnull budget) {
    static redisReplyObjectFunctions functions = {
        gw_redis_budget_string, gw_redis_budget_array, gw_redis_budget_integer, gw_redis_budget_nil, NULL,
    };
    if (c->reader == NULL || c->reader->fn == NULL) return;
    budget->inner = c->reader->fn;
    functions.freeObject = c->reader->fn->freeObject;
    c->reader->fn = &functions;
    c->reader->privdata = budget;
}

#endif
