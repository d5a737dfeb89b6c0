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
/// a fixed overhead) before it is allocated. Past `limit` nothing more is built: each value is
/// replaced by `gw_redis_over_budget` (never allocated, never stored in its parent), so the reader
/// still reads the reply to its end and the connection stays in step with Redis, while the reply
/// takes no more memory (an array header of millions of elements costs no pointers). `over` then
/// says the reply must be discarded. `used` and `over` are reset by the caller before each reply.
typedef struct gw_redis_reply_budget {
    size_t limit;                                      // 0: unbounded
    size_t used;
    int over;                                          // the reply passed `limit`: discard it
    redisReplyObjectFunctions *_Nullable inner;        // the reader's own functions (hiredis' defaults)
} gw_redis_reply_budget;

enum { GW_REDIS_REPLY_OVERHEAD = 48 };

/// What the reader gets in place of a value past the budget (its address is the marker).
static redisReply gw_redis_over_budget_reply = { REDIS_REPLY_NIL, 0, 0, NULL, 0, NULL };

static inline void *_Nonnull gw_redis_over_budget(void) { return &gw_redis_over_budget_reply; }

/// Charges `bytes`; 0 once the reply is past its budget (nothing more may be built).
static inline int gw_redis_charge(const redisReadTask *_Nonnull task, size_t bytes) {
    gw_redis_reply_budget *budget = (gw_redis_reply_budget *)task->privdata;
    if (budget == NULL || budget->limit == 0) return 1;
    if (budget->over) return 0;
    budget->used += bytes + GW_REDIS_REPLY_OVERHEAD;
    if (budget->used <= budget->limit) return 1;
    budget->over = 1;
    return 0;
}

/// Whether `task` belongs to a value already replaced (its parent was never built).
static inline int gw_redis_parent_skipped(const redisReadTask *_Nonnull task) {
    return task->parent != NULL && task->parent->obj == gw_redis_over_budget();
}

static void *_Nullable gw_redis_budget_string(const redisReadTask *_Nonnull task, char *_Nonnull str, size_t len) {
    if (gw_redis_parent_skipped(task) || !gw_redis_charge(task, len)) return gw_redis_over_budget();
    return ((gw_redis_reply_budget *)task->privdata)->inner->createString(task, str, len);
}

static void *_Nullable gw_redis_budget_array(const redisReadTask *_Nonnull task, int elements) {
    if (gw_redis_parent_skipped(task) || !gw_redis_charge(task, elements > 0 ? (size_t)elements * sizeof(void *) : 0)) {
        return gw_redis_over_budget();
    }
    return ((gw_redis_reply_budget *)task->privdata)->inner->createArray(task, elements);
}

static void *_Nullable gw_redis_budget_integer(const redisReadTask *_Nonnull task, long long value) {
    if (gw_redis_parent_skipped(task) || !gw_redis_charge(task, 0)) return gw_redis_over_budget();
    return ((gw_redis_reply_budget *)task->privdata)->inner->createInteger(task, value);
}

static void *_Nullable gw_redis_budget_nil(const redisReadTask *_Nonnull task) {
    if (gw_redis_parent_skipped(task) || !gw_redis_charge(task, 0)) return gw_redis_over_budget();
    return ((gw_redis_reply_budget *)task->privdata)->inner->createNil(task);
}

/// Frees a reply the reader built, never the marker.
static void gw_redis_budget_free(void *_Nullable reply) {
    if (reply == NULL || reply == gw_redis_over_budget()) return;
    freeReplyObject(reply);
}

/// Puts `budget` in front of the context's reader (its privdata reaches every read task). The
/// budget must outlive the context.
static inline void gw_redis_install_reply_budget(redisContext *_Nonnull c, gw_redis_reply_budget *_Nonnull budget) {
    static redisReplyObjectFunctions functions = {
        gw_redis_budget_string, gw_redis_budget_array, gw_redis_budget_integer, gw_redis_budget_nil, gw_redis_budget_free,
    };
    if (c->reader == NULL || c->reader->fn == NULL) return;
    budget->inner = c->reader->fn;
    c->reader->fn = &functions;
    c->reader->privdata = budget;
}

#endif
