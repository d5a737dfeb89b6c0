#ifndef REDIS_GATEWAY_CHIREDIS_SHIM_H
#define REDIS_GATEWAY_CHIREDIS_SHIM_H

// hiredis 0.14.1 (Debian 12). Only the Argv forms are used from Swift; the variadic
// redisCommand family is never called.
#include <hiredis/hiredis.h>
#include <sys/time.h>
#include <sys/socket.h>

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

/// How far past its budget a reply is still read through (unbuilt) before the connection is given
/// up instead: reading costs time, and a reply can be gigabytes (`LRANGE huge 0 -1`). Past the
/// budget a value is counted at about its size on the wire (its bytes + GW_REDIS_WIRE_OVERHEAD),
/// since nothing is allocated for it.
enum { GW_REDIS_DRAIN_FACTOR = 8, GW_REDIS_WIRE_OVERHEAD = 16 };

/// Charges a value that would take `built` bytes to build and `wire` bytes to read through: 1 to
/// build it, 0 to replace it with the marker (the reply is past its budget), -1 to fail the reader
/// (more than GW_REDIS_DRAIN_FACTOR times the budget read).
static inline int gw_redis_charge(const redisReadTask *_Nonnull task, size_t built, size_t wire) {
    gw_redis_reply_budget *budget = (gw_redis_reply_budget *)task->privdata;
    if (budget == NULL || budget->limit == 0) return 1;
    if (!budget->over) {
        if (budget->used + built + GW_REDIS_REPLY_OVERHEAD <= budget->limit) {
            budget->used += built + GW_REDIS_REPLY_OVERHEAD;
            return 1;
        }
        budget->over = 1;
    }
    budget->used += wire + GW_REDIS_WIRE_OVERHEAD;
    return budget->used / GW_REDIS_DRAIN_FACTOR > budget->limit ? -1 : 0;
}

/// What a create function does: build (1), return the marker (0), or fail the reader (-1).
static inline int gw_redis_decide(const redisReadTask *_Nonnull task, size_t built, size_t wire) {
    // A value inside one already replaced is never built, whatever is left of the budget.
    if (task->parent != NULL && task->parent->obj == gw_redis_over_budget()) {
        gw_redis_reply_budget *budget = (gw_redis_reply_budget *)task->privdata;
        if (budget != NULL && budget->limit > 0) budget->over = 1;
        int charge = gw_redis_charge(task, built, wire);
        return charge < 0 ? -1 : 0;
    }
    return gw_redis_charge(task, built, wire);
}

static void *_Nullable gw_redis_budget_string(const redisReadTask *_Nonnull task, char *_Nonnull str, size_t len) {
    switch (gw_redis_decide(task, len, len)) {
    case 1: return ((gw_redis_reply_budget *)task->privdata)->inner->createString(task, str, len);
    case 0: return gw_redis_over_budget();
    default: return NULL;
    }
}

static void *_Nullable gw_redis_budget_array(const redisReadTask *_Nonnull task, int elements) {
    switch (gw_redis_decide(task, elements > 0 ? (size_t)elements * sizeof(void *) : 0, 0)) {
    case 1: return ((gw_redis_reply_budget *)task->privdata)->inner->createArray(task, elements);
    case 0: return gw_redis_over_budget();
    default: return NULL;
    }
}

static void *_Nullable gw_redis_budget_integer(const redisReadTask *_Nonnull task, long long value) {
    switch (gw_redis_decide(task, 0, 0)) {
    case 1: return ((gw_redis_reply_budget *)task->privdata)->inner->createInteger(task, value);
    case 0: return gw_redis_over_budget();
    default: return NULL;
    }
}

static void *_Nullable gw_redis_budget_nil(const redisReadTask *_Nonnull task) {
    switch (gw_redis_decide(task, 0, 0)) {
    case 1: return ((gw_redis_reply_budget *)task->privdata)->inner->createNil(task);
    case 0: return gw_redis_over_budget();
    default: return NULL;
    }
}

/// Frees a reply the reader built, never the marker.
static void gw_redis_budget_free(void *_Nullable reply) {
    if (reply == NULL || reply == gw_redis_over_budget()) return;
    freeReplyObject(reply);
}

/// When the reader is waiting for the rest of a string longer than `allowance` (what is left of
/// the reply's budget): how many bytes of it are still to come on the socket, so the caller reads
/// them and throws them away (then `gw_redis_long_string_skipped`), and the connection stays in
/// step with no memory taken for the string. 0 when the reader is not at such a string (or the
/// string is too long to be worth reading through: more than GW_REDIS_DRAIN_FACTOR times the
/// budget). `*length` is the string's length.
static inline unsigned long long gw_redis_long_string_rest(
    redisContext *_Nonnull c, gw_redis_reply_budget *_Nonnull budget, size_t allowance, unsigned long long *_Nonnull length_out) {
    redisReader *r = c->reader;
    if (r == NULL || r->ridx < 0 || r->rstack[r->ridx].type != REDIS_REPLY_STRING) return 0;
    // The reader took the '$' and waits at the length: "<digits>\r\n<bytes>\r\n".
    const char *p = r->buf + r->pos;
    size_t available = r->len - r->pos;
    size_t digits = 0;
    unsigned long long length = 0;
    while (digits < available && p[digits] >= '0' && p[digits] <= '9' && digits < 19) {
        length = length * 10 + (unsigned long long)(p[digits] - '0');
        digits++;
    }
    if (digits == 0 || digits + 2 > available || p[digits] != '\r' || p[digits + 1] != '\n') return 0;
    size_t header = digits + 2;
    unsigned long long need = length + 2;
    unsigned long long have = available - header;
    if (have >= need || length <= allowance) return 0;
    if (budget->limit > 0 && length / GW_REDIS_DRAIN_FACTOR > budget->limit) return 0;
    *length_out = length;
    return need - have;
}

/// After the rest of a long string was read and thrown away: drops what the reader holds of it,
/// feeds it a nil in its place and marks the reply over its budget. 1, or -1 when the reader failed.
static inline int gw_redis_long_string_skipped(redisContext *_Nonnull c, gw_redis_reply_budget *_Nonnull budget, unsigned long long length) {
    redisReader *r = c->reader;
    sdsIncrLen(r->buf, -(int)(sdslen(r->buf) - r->pos));
    r->len = sdslen(r->buf);
    budget->over = 1;
    budget->used += (size_t)length;
    return redisReaderFeed(r, "-1\r\n", 4) == REDIS_OK ? 1 : -1;
}

/// The bytes appended but not yet written (`gw_redis_pending_output` of them).
static inline const char *_Nullable gw_redis_output(const redisContext *_Nonnull c) {
    return c->obuf;
}

/// Drops the first `written` bytes of the output buffer (they reached the socket).
static inline void gw_redis_output_written(redisContext *_Nonnull c, size_t written) {
    if (written >= sdslen(c->obuf)) {
        sdsfree(c->obuf);
        c->obuf = sdsempty();
    } else {
        sdsrange(c->obuf, (int)written, -1);
    }
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
