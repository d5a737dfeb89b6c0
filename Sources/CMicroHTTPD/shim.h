#ifndef REDIS_GATEWAY_CMICROHTTPD_SHIM_H
#define REDIS_GATEWAY_CMICROHTTPD_SHIM_H

// libmicrohttpd 0.9.75 (Debian 12). MHD_start_daemon and MHD_get_daemon_info are C-variadic and
// the Swift importer drops them; these prefixed inline functions are the only way Swift starts
// a daemon and reads its bound port.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#include <microhttpd.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <stdio.h>

// HTTPS: libmicrohttpd's own TLS (GnuTLS). The certificate is chosen per handshake by a callback
// (MHD_OPTION_HTTPS_CERT_CALLBACK), so a new one can be installed without restarting the daemon.

/// A certificate chain and its private key, loaded from PEM files; read-only once loaded.
typedef struct gw_https_identity {
    gnutls_pcert_st certificates[16];
    unsigned int count;
    gnutls_privkey_t _Nonnull key;
} gw_https_identity;

/// Loads `certificate_file` (a PEM chain, leaf first) and `key_file`; NULL with `error` filled when
/// either cannot be used (including a key that does not belong to the certificate).
static inline gw_https_identity *_Nullable gw_https_identity_load(
    const char *_Nonnull certificate_file, const char *_Nonnull key_file, char *_Nonnull error, size_t error_length) {
    gw_https_identity *identity = calloc(1, sizeof(gw_https_identity));
    if (identity == NULL) { snprintf(error, error_length, "out of memory"); return NULL; }
    identity->count = 16;
    int code = gnutls_pcert_list_import_x509_file(identity->certificates, &identity->count, certificate_file, GNUTLS_X509_FMT_PEM, NULL, NULL, 0);
    if (code < 0 || identity->count == 0) {
        snprintf(error, error_length, "cannot read the certificate %s: %s", certificate_file, gnutls_strerror(code < 0 ? code : GNUTLS_E_NO_CERTIFICATE_FOUND));
        free(identity);
        return NULL;
    }
    gnutls_datum_t data = {NULL, 0};
    code = gnutls_privkey_init(&identity->key);
    if (code >= 0) code = gnutls_load_file(key_file, &data);
    if (code >= 0) code = gnutls_privkey_import_x509_raw(identity->key, &data, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (data.data != NULL) { gnutls_memset(data.data, 0, data.size); gnutls_free(data.data); }
    if (code >= 0) {
        // The key must sign what the certificate's public key verifies.
        const gnutls_datum_t probe = {(unsigned char *)"redis-gateway", 13};
        gnutls_datum_t signature = {NULL, 0};
        gnutls_pubkey_t public_key = identity->certificates[0].pubkey;
        int algorithm = gnutls_pubkey_get_pk_algorithm(public_key, NULL);
        gnutls_sign_algorithm_t sign = gnutls_pk_to_sign(algorithm, GNUTLS_DIG_SHA256);
        code = gnutls_privkey_sign_data2(identity->key, sign, 0, &probe, &signature);
        if (code >= 0) code = gnutls_pubkey_verify_data2(public_key, sign, 0, &probe, &signature);
        if (signature.data != NULL) gnutls_free(signature.data);
        if (code < 0) {
            snprintf(error, error_length, "the key %s does not belong to the certificate %s", key_file, certificate_file);
            goto fail;
        }
    }
    if (code < 0) {
        snprintf(error, error_length, "cannot read the key %s: %s", key_file, gnutls_strerror(code));
        goto fail;
    }
    return identity;
fail:
    for (unsigned int i = 0; i < identity->count; i++) gnutls_pcert_deinit(&identity->certificates[i]);
    gnutls_privkey_deinit(identity->key);
    free(identity);
    return NULL;
}

static inline void gw_https_identity_free(gw_https_identity *_Nonnull identity) {
    for (unsigned int i = 0; i < identity->count; i++) gnutls_pcert_deinit(&identity->certificates[i]);
    gnutls_privkey_deinit(identity->key);
    free(identity);
}

/// What the certificate callback answers: `identity`'s chain and key (never copied; it must outlive
/// every handshake that may still use it).
static inline int gw_https_identity_select(
    gw_https_identity *_Nonnull identity, gnutls_pcert_st *_Nullable *_Nonnull certificates, unsigned int *_Nonnull count,
    gnutls_privkey_t _Nullable *_Nonnull key) {
    *certificates = identity->certificates;
    *count = identity->count;
    *key = identity->key;
    return 0;
}

/// Called from the certificate callback, which GnuTLS runs while it reads the ClientHello, before it
/// sends its CertificateRequest: the client must present a certificate, verified during the handshake
/// against the daemon's trusted CAs (MHD_OPTION_HTTPS_MEM_TRUST). A client without one, or with one
/// no trusted CA signed, fails the handshake.
static inline void gw_https_require_client_certificate(gnutls_session_t _Nonnull session) {
    gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_cert(session, NULL, 0);
}

/// The local port of a handshake's connection (libmicrohttpd gives GnuTLS the socket itself as its
/// transport), so one process can serve several HTTPS daemons with their own certificates; 0 when
/// unknown.
static inline uint16_t gw_https_local_port(gnutls_session_t _Nonnull session) {
    int fd = gnutls_transport_get_int(session);
    struct sockaddr_storage address;
    socklen_t length = sizeof(address);
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&address, &length) != 0) return 0;
    if (address.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&address)->sin_port);
    if (address.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
    return 0;
}

/// The certificate callback's type (GnuTLS' gnutls_certificate_retrieve_function2).
typedef int (*gw_https_certificate_callback)(
    gnutls_session_t _Nonnull session, const gnutls_datum_t *_Nullable requested_issuers, int issuer_count,
    const gnutls_pk_algorithm_t *_Nullable algorithms, int algorithm_count, gnutls_pcert_st *_Nullable *_Nonnull certificates,
    unsigned int *_Nonnull count, gnutls_privkey_t _Nullable *_Nonnull key);

/// Leaves URL paths and query arguments exactly as they arrived (percent-escapes intact), so the
/// Swift side can split the path on '/' before decoding each segment ("a%2Fb" stays one key).
static size_t gw_mhd_identity_unescape(void *cls, struct MHD_Connection *connection, char *s) {
    (void)cls;
    (void)connection;
    return strlen(s);
}

/// Everything the gateway sets when starting a daemon.
typedef struct gw_mhd_settings {
    const char *_Nonnull host;          // numeric IPv4 or IPv6 address to bind
    uint16_t port;                      // 0: any free port (read back with gw_mhd_bound_port)
    unsigned int thread_pool_size;      // worker threads, each with its own event loop; 0: a thread per connection
    unsigned int connection_limit;      // total open client connections
    unsigned int per_ip_connection_limit; // 0: unlimited
    unsigned int connection_timeout_s;  // idle client connections are closed after this
    size_t connection_memory_limit;     // per-connection buffer for headers
    int use_poll;                       // 1: poll(2) for each worker's connections; 0: epoll(7)
    struct gw_mhd_watchdog *_Nullable watchdog; // bounds how long a request may take to arrive; NULL: none
    gw_https_certificate_callback _Nullable https_certificate; // HTTPS with this callback; NULL: plain HTTP
    const char *_Nullable https_client_ca;  // PEM CAs whose client certificates are accepted; NULL: none asked for
} gw_mhd_settings;

/// The flags of every daemon with worker threads (the pooled one and each of a group's): internal
/// threads, suspend/resume woken through an inter-thread channel, and how a worker thread waits for
/// its connections. epoll costs two epoll_ctl calls per request that a handler answers later
/// (libmicrohttpd takes a suspended connection out of its epoll set and puts it back on resume);
/// poll costs a pass over every open connection of the thread on each wake-up. Few, busy
/// connections: poll is cheaper; many, mostly idle ones: epoll.
static inline unsigned int gw_mhd_worker_flags(const gw_mhd_settings *_Nonnull settings) {
    return MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME
        | (settings->use_poll ? MHD_USE_POLL : MHD_USE_EPOLL) | (settings->https_certificate != NULL ? MHD_USE_TLS : 0);
}

/// settings->host:settings->port as a socket address; its length, or 0 when the host is not a
/// numeric IPv4 or IPv6 address.
static inline socklen_t gw_mhd_address(const gw_mhd_settings *_Nonnull settings, struct sockaddr_storage *_Nonnull address) {
    memset(address, 0, sizeof(*address));
    struct sockaddr_in *address4 = (struct sockaddr_in *)address;
    struct sockaddr_in6 *address6 = (struct sockaddr_in6 *)address;
    if (inet_pton(AF_INET, settings->host, &address4->sin_addr) == 1) {
        address4->sin_family = AF_INET;
        address4->sin_port = htons(settings->port);
        return sizeof(*address4);
    }
    if (inet_pton(AF_INET6, settings->host, &address6->sin6_addr) == 1) {
        address6->sin6_family = AF_INET6;
        address6->sin6_port = htons(settings->port);
        return sizeof(*address6);
    }
    return 0;
}

// MARK: The request watchdog

/// A bound on how long a request may take to arrive, which libmicrohttpd 0.9.75 lacks (its
/// connection timeout is reset by every byte, so a client sending one byte a second holds a
/// connection for ever). Each connection has a deadline, kept by the callbacks below and read by
/// one watchdog thread, which shuts the socket down when it passes (libmicrohttpd then sees the
/// connection end and closes it on its own thread):
/// - from the connection's start, or its previous response's end, until its request line has
///   arrived: `waiting_ns` (libmicrohttpd's own idle timeout closes a silent connection first);
/// - from the request line until the whole request (headers and body) has arrived: `arriving_ns`;
///   such a connection is answered 408 before it is shut down;
/// - none while a request is being answered (a handler waiting for Redis, an event stream).
/// The watchdog never closes a descriptor (libmicrohttpd does), and a connection leaves its list
/// in libmicrohttpd's close notification, before libmicrohttpd closes the descriptor, under the
/// same lock the watchdog holds while it shuts sockets down: it never touches a reused descriptor.
typedef struct gw_mhd_watch_entry {
    int fd;
    _Atomic uint64_t deadline_ns;       // CLOCK_MONOTONIC; 0: none
    atomic_int arriving;                // the request line is in: answer 408 before shutting down
    struct gw_mhd_watch_entry *_Nullable prev;
    struct gw_mhd_watch_entry *_Nullable next;
} gw_mhd_watch_entry;

typedef struct gw_mhd_watchdog {
    uint64_t waiting_ns;
    uint64_t arriving_ns;
    atomic_ulong timed_out;             // connections shut down by the watchdog
    int running;
    pthread_t thread;
    pthread_mutex_t lock;               // guards the list and running
    pthread_cond_t wake;
    gw_mhd_watch_entry *_Nullable head;
} gw_mhd_watchdog;

static inline uint64_t gw_mhd_now_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static const char gw_mhd_request_timeout_response[] =
    "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: close\r\n"
    "Content-Length: 73\r\n\r\n{\"error\":\"the request did not arrive in full within the request timeout\"}";

static void *_Nullable gw_mhd_watchdog_loop(void *_Nullable argument) {
    gw_mhd_watchdog *watchdog = (gw_mhd_watchdog *)argument;
    pthread_mutex_lock(&watchdog->lock);
    while (watchdog->running) {
        uint64_t now = gw_mhd_now_ns();
        for (gw_mhd_watch_entry *entry = watchdog->head; entry != NULL; entry = entry->next) {
            uint64_t deadline = atomic_load(&entry->deadline_ns);
            if (deadline == 0 || now < deadline) continue;
            // Lost to the request arriving (or completing) at this very moment: leave it be.
            if (!atomic_compare_exchange_strong(&entry->deadline_ns, &deadline, 0)) continue;
            atomic_fetch_add(&watchdog->timed_out, 1);  // counted before the client can see the close
            // No response is queued while a request arrives, so nothing else writes to the socket.
            if (atomic_load(&entry->arriving)) {
                (void)send(entry->fd, gw_mhd_request_timeout_response, sizeof(gw_mhd_request_timeout_response) - 1,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
            }
            shutdown(entry->fd, SHUT_RDWR);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000 * 1000;  // a tenth of a second between passes
        if (until.tv_nsec >= 1000000000) { until.tv_sec += 1; until.tv_nsec -= 1000000000; }
        pthread_cond_timedwait(&watchdog->wake, &watchdog->lock, &until);
    }
    pthread_mutex_unlock(&watchdog->lock);
    return NULL;
}

/// Starts the watchdog thread; NULL if it cannot. `arriving_ms` 0: no bound on a request's arrival.
static inline gw_mhd_watchdog *_Nullable gw_mhd_watchdog_start(unsigned int waiting_s, unsigned int arriving_ms) {
    gw_mhd_watchdog *watchdog = calloc(1, sizeof(gw_mhd_watchdog));
    if (watchdog == NULL) return NULL;
    watchdog->waiting_ns = ((uint64_t)waiting_s + 1) * 1000000000u;  // after libmicrohttpd's own idle close
    watchdog->arriving_ns = (uint64_t)arriving_ms * 1000000u;
    atomic_init(&watchdog->timed_out, 0);
    pthread_mutex_init(&watchdog->lock, NULL);
    pthread_cond_init(&watchdog->wake, NULL);
    watchdog->running = 1;
    if (pthread_create(&watchdog->thread, NULL, gw_mhd_watchdog_loop, watchdog) != 0) {
        pthread_cond_destroy(&watchdog->wake);
        pthread_mutex_destroy(&watchdog->lock);
        free(watchdog);
        return NULL;
    }
    return watchdog;
}

/// Stops the watchdog thread (after every daemon using it has stopped); idempotent. Its counter
/// stays readable until `gw_mhd_watchdog_free`.
static inline void gw_mhd_watchdog_stop(gw_mhd_watchdog *_Nonnull watchdog) {
    pthread_mutex_lock(&watchdog->lock);
    int running = watchdog->running;
    watchdog->running = 0;
    pthread_cond_signal(&watchdog->wake);
    pthread_mutex_unlock(&watchdog->lock);
    if (running) pthread_join(watchdog->thread, NULL);
}

/// Stops the watchdog if it runs, and frees it.
static inline void gw_mhd_watchdog_free(gw_mhd_watchdog *_Nonnull watchdog) {
    gw_mhd_watchdog_stop(watchdog);
    pthread_cond_destroy(&watchdog->wake);
    pthread_mutex_destroy(&watchdog->lock);
    free(watchdog);
}

/// Connections the watchdog shut down because a request did not arrive in time.
static inline unsigned long gw_mhd_watchdog_timed_out(gw_mhd_watchdog *_Nonnull watchdog) {
    return atomic_load(&watchdog->timed_out);
}

/// MHD_OPTION_NOTIFY_CONNECTION: a connection joins the watch when it starts, leaves when it closes.
static void gw_mhd_watch_notified(
    void *_Nullable context, struct MHD_Connection *_Nullable connection, void *_Nullable *_Nullable socket_context,
    enum MHD_ConnectionNotificationCode code)
{
    gw_mhd_watchdog *watchdog = (gw_mhd_watchdog *)context;
    if (watchdog == NULL || connection == NULL || socket_context == NULL) return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        gw_mhd_watch_entry *entry = info == NULL ? NULL : calloc(1, sizeof(gw_mhd_watch_entry));
        if (entry == NULL) return;
        entry->fd = info->connect_fd;
        atomic_init(&entry->deadline_ns, gw_mhd_now_ns() + watchdog->waiting_ns);
        atomic_init(&entry->arriving, 0);
        pthread_mutex_lock(&watchdog->lock);
        entry->next = watchdog->head;
        if (watchdog->head != NULL) watchdog->head->prev = entry;
        watchdog->head = entry;
        pthread_mutex_unlock(&watchdog->lock);
        *socket_context = entry;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context != NULL) {
        gw_mhd_watch_entry *entry = (gw_mhd_watch_entry *)*socket_context;
        pthread_mutex_lock(&watchdog->lock);
        if (entry->prev != NULL) entry->prev->next = entry->next; else watchdog->head = entry->next;
        if (entry->next != NULL) entry->next->prev = entry->prev;
        pthread_mutex_unlock(&watchdog->lock);
        free(entry);
        *socket_context = NULL;
    }
}

static inline gw_mhd_watch_entry *_Nullable gw_mhd_watch_entry_of(struct MHD_Connection *_Nonnull connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info == NULL ? NULL : (gw_mhd_watch_entry *)info->socket_context;
}

/// MHD_OPTION_URI_LOG_CALLBACK: the request line has arrived; the rest must follow in time.
/// Returns NULL: libmicrohttpd makes the return value the request's context, which the access
/// handler sets itself.
static void *_Nullable gw_mhd_watch_request_line(void *_Nullable context, const char *_Nullable uri, struct MHD_Connection *_Nullable connection) {
    (void)uri;
    gw_mhd_watchdog *watchdog = (gw_mhd_watchdog *)context;
    gw_mhd_watch_entry *entry = connection == NULL ? NULL : gw_mhd_watch_entry_of(connection);
    if (watchdog == NULL || entry == NULL) return NULL;
    atomic_store(&entry->arriving, 1);
    atomic_store(&entry->deadline_ns, watchdog->arriving_ns == 0 ? 0 : gw_mhd_now_ns() + watchdog->arriving_ns);
    return NULL;
}

/// The whole request has arrived (or is answered without its body): no bound while it is served.
static inline void gw_mhd_watch_request_arrived(struct MHD_Connection *_Nonnull connection) {
    gw_mhd_watch_entry *entry = gw_mhd_watch_entry_of(connection);
    if (entry == NULL) return;
    atomic_store(&entry->arriving, 0);
    atomic_store(&entry->deadline_ns, 0);
}

/// The response is done; the connection waits for its next request line.
static inline void gw_mhd_watch_request_completed(gw_mhd_watchdog *_Nonnull watchdog, struct MHD_Connection *_Nonnull connection) {
    gw_mhd_watch_entry *entry = gw_mhd_watch_entry_of(connection);
    if (entry == NULL) return;
    atomic_store(&entry->arriving, 0);
    atomic_store(&entry->deadline_ns, gw_mhd_now_ns() + watchdog->waiting_ns);
}

/// Writes `bytes` (a whole HTTP response) straight to the connection's socket and shuts its
/// sending side, for a request refused in the middle of its body: libmicrohttpd 0.9.75 queues a
/// response only before the body or after all of it. The caller then returns MHD_NO, and
/// libmicrohttpd closes the connection without reading the rest. (Plain TCP only.)
static inline void gw_mhd_answer_and_close(struct MHD_Connection *_Nonnull connection, const void *_Nonnull bytes, size_t length) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info == NULL) return;
    (void)send(info->connect_fd, bytes, length, MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(info->connect_fd, SHUT_WR);
}

// MARK: Request framing

/// What `gw_mhd_framing_problem` found.
enum {
    GW_MHD_FRAMING_OK = 0,
    GW_MHD_FRAMING_BAD_NAME = 1,            // a field name that is not an RFC 9110 token
    GW_MHD_FRAMING_BAD_LENGTH = 2,          // a Content-Length that is not all digits
    GW_MHD_FRAMING_BAD_CODING = 3,          // a Transfer-Encoding other than exactly "chunked"
    GW_MHD_FRAMING_SEVERAL_LENGTHS = 4,
    GW_MHD_FRAMING_SEVERAL_CODINGS = 5,
    GW_MHD_FRAMING_LENGTH_AND_CODING = 6,
    GW_MHD_FRAMING_NO_HOST = 7,             // HTTP/1.1 without Host
    GW_MHD_FRAMING_SEVERAL_HOSTS = 8,
};

typedef struct gw_mhd_framing_count {
    unsigned int lengths, codings, hosts;
    int problem;
} gw_mhd_framing_count;

static inline int gw_mhd_is_token(const char *_Nonnull name) {
    // RFC 9110 tchar: ALPHA / DIGIT / "!#$%&'*+-.^_`|~"
    if (*name == '\0') return 0;
    for (const unsigned char *c = (const unsigned char *)name; *c != '\0'; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')) continue;
        if (*c == '-' || *c == '_' || *c == '.' || *c == '!' || *c == '#' || *c == '$' || *c == '%' || *c == '&' || *c == '\''
            || *c == '*' || *c == '+' || *c == '^' || *c == '`' || *c == '|' || *c == '~') continue;
        return 0;
    }
    return 1;
}

static enum MHD_Result gw_mhd_framing_visit(void *_Nullable context, enum MHD_ValueKind kind, const char *_Nonnull key, const char *_Nullable value) {
    (void)kind;
    gw_mhd_framing_count *count = (gw_mhd_framing_count *)context;
    if (!gw_mhd_is_token(key)) { count->problem = GW_MHD_FRAMING_BAD_NAME; return MHD_NO; }
    if (strcasecmp(key, "content-length") == 0) {
        count->lengths++;
        if (value == NULL || *value == '\0') { count->problem = GW_MHD_FRAMING_BAD_LENGTH; return MHD_NO; }
        for (const char *c = value; *c != '\0'; c++) {
            if (*c < '0' || *c > '9') { count->problem = GW_MHD_FRAMING_BAD_LENGTH; return MHD_NO; }
        }
    } else if (strcasecmp(key, "transfer-encoding") == 0) {
        count->codings++;
        if (value == NULL || strcasecmp(value, "chunked") != 0) { count->problem = GW_MHD_FRAMING_BAD_CODING; return MHD_NO; }
    } else if (strcasecmp(key, "host") == 0) {
        count->hosts++;
    }
    return MHD_YES;
}

/// The framing checks libmicrohttpd 0.9.75 does not make, on the header fields it parsed, before
/// any body is read (see HTTPServer/RequestFraming.swift for why each): one of GW_MHD_FRAMING_*.
static inline int gw_mhd_framing_problem(struct MHD_Connection *_Nonnull connection, const char *_Nullable version) {
    gw_mhd_framing_count count = { 0, 0, 0, GW_MHD_FRAMING_OK };
    MHD_get_connection_values(connection, MHD_HEADER_KIND, gw_mhd_framing_visit, &count);
    if (count.problem != GW_MHD_FRAMING_OK) return count.problem;
    if (count.lengths > 1) return GW_MHD_FRAMING_SEVERAL_LENGTHS;
    if (count.codings > 1) return GW_MHD_FRAMING_SEVERAL_CODINGS;
    if (count.lengths > 0 && count.codings > 0) return GW_MHD_FRAMING_LENGTH_AND_CODING;
    if (count.hosts > 1) return GW_MHD_FRAMING_SEVERAL_HOSTS;
    if (count.hosts == 0 && version != NULL && strcmp(version, "HTTP/1.1") == 0) return GW_MHD_FRAMING_NO_HOST;
    return GW_MHD_FRAMING_OK;
}

/// The client's address as 16 bytes into `out` (an IPv4 address as ::ffff:a.b.c.d); 0 when unknown.
static inline int gw_mhd_client_address(struct MHD_Connection *_Nonnull connection, uint8_t *_Nonnull out) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return 0;
    const struct sockaddr *address = info->client_addr;
    if (address->sa_family == AF_INET) {
        memset(out, 0, 10);
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, &((const struct sockaddr_in *)address)->sin_addr, 4);
        return 1;
    }
    if (address->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)address)->sin6_addr, 16);
        return 1;
    }
    return 0;
}

/// The options every daemon gets (idle timeout, header buffer, identity unescaping, the completion
/// callback) at options[*count], then MHD_OPTION_END; `connection_limit` is this daemon's share.
static inline void gw_mhd_common_options(
    struct MHD_OptionItem *_Nonnull options, unsigned int *_Nonnull count, const gw_mhd_settings *_Nonnull settings,
    unsigned int connection_limit, MHD_RequestCompletedCallback _Nonnull completed, void *_Nullable completed_context)
{
    options[(*count)++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, connection_limit, NULL };
    options[(*count)++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, settings->connection_timeout_s, NULL };
    options[(*count)++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)settings->connection_memory_limit, NULL };
    options[(*count)++] = (struct MHD_OptionItem){ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)&gw_mhd_identity_unescape, NULL };
    options[(*count)++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, completed_context };
    if (settings->watchdog != NULL) {
        options[(*count)++] = (struct MHD_OptionItem){ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)&gw_mhd_watch_request_line, settings->watchdog };
    }
    if (settings->https_certificate != NULL) {
        options[(*count)++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)settings->https_certificate };
        options[(*count)++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" };
        if (settings->https_client_ca != NULL) {
            options[(*count)++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)settings->https_client_ca };
        }
    }
    options[(*count)++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
}

/// Starts an internally polled, thread-pooled daemon bound to settings->host:settings->port.
/// Returns NULL when the address is not numeric or the daemon cannot start (port in use, ...).
static inline struct MHD_Daemon *_Nullable gw_mhd_start(
    const gw_mhd_settings *_Nonnull settings,
    MHD_AccessHandlerCallback _Nonnull handler,
    void *_Nullable handler_context,
    MHD_RequestCompletedCallback _Nonnull completed,
    void *_Nullable completed_context)
{
    struct sockaddr_storage address;
    if (gw_mhd_address(settings, &address) == 0) return NULL;
    unsigned int flags = settings->thread_pool_size > 0 ? gw_mhd_worker_flags(settings)
        : (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL
           | (settings->https_certificate != NULL ? MHD_USE_TLS : 0));
    if (address.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    struct MHD_OptionItem options[16];
    unsigned int count = 0;
    if (settings->watchdog != NULL) {
        options[count++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)&gw_mhd_watch_notified, settings->watchdog };
    }
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, (void *)&address };
    if (settings->thread_pool_size > 0) {
        options[count++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, settings->thread_pool_size, NULL };
    }
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT, settings->per_ip_connection_limit, NULL };
    gw_mhd_common_options(options, &count, settings, settings->connection_limit, completed, completed_context);
    return MHD_start_daemon(flags, settings->port, NULL, NULL, handler, handler_context,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/// The port the daemon listens on (useful after starting on port 0); 0 when unknown.
static inline uint16_t gw_mhd_bound_port(struct MHD_Daemon *_Nonnull daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

/// Number of client connections currently open on the daemon.
static inline unsigned int gw_mhd_current_connections(struct MHD_Daemon *_Nonnull daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info == NULL ? 0 : info->num_connections;
}

/// One daemon per worker thread, fed by one accepting thread in turn (round-robin): each worker
/// serves every N-th connection. libmicrohttpd's own thread pool lets each worker accept whatever
/// burst of connections it wakes for, so one can end up with most of them and their requests wait
/// behind each other while the other worker idles (the latency tail). Used unless a per-address
/// connection limit is set: libmicrohttpd counts those per daemon, and only its own pool shares
/// the count across threads.
///
/// The accepting thread enforces the connection limit itself: it counts the connections it handed
/// over (`admitted`, less one for each that libmicrohttpd reports closed) and answers one over the
/// limit with a 503 and closes it, without handing it to a daemon. Each daemon's own limit is the
/// whole limit, so libmicrohttpd never refuses a handed-over connection on its worker thread: in
/// 0.9.75 that refusal path could leave the worker waiting for a lock it already held (the
/// deadlock a flood of connects caused).
typedef struct gw_mhd_group {
    int listen_fd;
    unsigned int count;
    unsigned int next;
    unsigned int connection_limit;      // open client connections over all daemons
    atomic_uint admitted;               // handed to a daemon and not reported closed yet
    atomic_ulong refused;               // answered 503 and closed by the accepting thread
    int accepting;                      // the accepting thread runs (until quiesced)
    pthread_t acceptor;
    pthread_mutex_t lock;               // guards listen_fd and accepting
    gw_mhd_watchdog *_Nullable watchdog;
    struct MHD_Daemon *_Nullable daemons[];
} gw_mhd_group;

/// What a connection over the limit gets before it is closed.
static const char gw_mhd_over_limit_response[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
    "Content-Length: 75\r\n\r\n{\"error\":\"too many connections: the gateway's connection limit is reached\"}";

/// libmicrohttpd's word that a connection of one of the group's daemons closed.
static void gw_mhd_group_connection_notified(
    void *_Nullable context, struct MHD_Connection *_Nullable connection, void *_Nullable *_Nullable socket_context,
    enum MHD_ConnectionNotificationCode code)
{
    gw_mhd_group *group = (gw_mhd_group *)context;
    gw_mhd_watch_notified(group->watchdog, connection, socket_context, code);
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) atomic_fetch_sub(&group->admitted, 1);
}

static void *_Nullable gw_mhd_group_accept_loop(void *_Nullable argument) {
    gw_mhd_group *group = (gw_mhd_group *)argument;
    for (;;) {
        struct sockaddr_storage address;
        socklen_t length = sizeof(address);
        int client = accept4(group->listen_fd, (struct sockaddr *)&address, &length, SOCK_CLOEXEC);
        if (client < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            // Out of descriptors or memory: the connection waits in the backlog; try again shortly.
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) { usleep(10000); continue; }
            return NULL;  // the listening socket was shut down (quiesce) or closed
        }
        if (atomic_load(&group->admitted) >= group->connection_limit) {
            (void)send(client, gw_mhd_over_limit_response, sizeof(gw_mhd_over_limit_response) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
            close(client);
            atomic_fetch_add(&group->refused, 1);
            continue;
        }
        atomic_fetch_add(&group->admitted, 1);
        // libmicrohttpd owns the socket from here; one it refuses at once it closes without a
        // close notification.
        if (MHD_add_connection(group->daemons[group->next++ % group->count], client, (struct sockaddr *)&address, length) != MHD_YES) {
            atomic_fetch_sub(&group->admitted, 1);
        }
    }
}

/// Stops accepting: the listening socket is shut down (waking the accepting thread), the thread
/// joined, the socket closed. Open connections stay served. Idempotent.
static inline void gw_mhd_group_quiesce(gw_mhd_group *_Nonnull group) {
    pthread_mutex_lock(&group->lock);
    int accepting = group->accepting;
    group->accepting = 0;
    pthread_mutex_unlock(&group->lock);
    if (!accepting) return;
    shutdown(group->listen_fd, SHUT_RDWR);
    pthread_join(group->acceptor, NULL);
    close(group->listen_fd);
}

/// Quiesces, stops every daemon (closing their connections, joining their threads), frees.
static inline void gw_mhd_group_stop(gw_mhd_group *_Nonnull group) {
    gw_mhd_group_quiesce(group);
    for (unsigned int i = 0; i < group->count; i++) {
        if (group->daemons[i] != NULL) MHD_stop_daemon(group->daemons[i]);
    }
    pthread_mutex_destroy(&group->lock);
    free(group);
}

/// Starts settings->thread_pool_size (at least 2) daemons without listening sockets, and the
/// accepting thread on a socket bound to settings->host:settings->port. NULL when the address is
/// not numeric, cannot be bound, or a daemon cannot start.
static inline gw_mhd_group *_Nullable gw_mhd_group_start(
    const gw_mhd_settings *_Nonnull settings,
    MHD_AccessHandlerCallback _Nonnull handler,
    void *_Nullable handler_context,
    MHD_RequestCompletedCallback _Nonnull completed,
    void *_Nullable completed_context)
{
    struct sockaddr_storage address;
    socklen_t length = gw_mhd_address(settings, &address);
    if (length == 0) return NULL;
    unsigned int count = settings->thread_pool_size < 2 ? 2 : settings->thread_pool_size;
    gw_mhd_group *group = calloc(1, sizeof(gw_mhd_group) + count * sizeof(struct MHD_Daemon *));
    if (group == NULL) return NULL;
    group->count = count;
    group->connection_limit = settings->connection_limit < 1 ? 1 : settings->connection_limit;
    group->watchdog = settings->watchdog;
    atomic_init(&group->admitted, 0);
    atomic_init(&group->refused, 0);
    pthread_mutex_init(&group->lock, NULL);
    int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0) { pthread_mutex_destroy(&group->lock); free(group); return NULL; }
    // As libmicrohttpd sets its own listening sockets: address reuse, IPv6 only on IPv6.
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (address.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&address, length) != 0 || listen(fd, SOMAXCONN) != 0) {
        close(fd);
        pthread_mutex_destroy(&group->lock);
        free(group);
        return NULL;
    }
    group->listen_fd = fd;
    unsigned int flags = gw_mhd_worker_flags(settings) | MHD_USE_NO_LISTEN_SOCKET;
    for (unsigned int i = 0; i < count; i++) {
        struct MHD_OptionItem options[14];
        unsigned int n = 0;
        options[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)&gw_mhd_group_connection_notified, group };
        // The accepting thread keeps the total within the limit, so no daemon ever reaches its own.
        gw_mhd_common_options(options, &n, settings, group->connection_limit + 1, completed, completed_context);
        group->daemons[i] = MHD_start_daemon(flags, 0, NULL, NULL, handler, handler_context, MHD_OPTION_ARRAY, options, MHD_OPTION_END);
        if (group->daemons[i] == NULL) {
            close(fd);
            gw_mhd_group_stop(group);  // not accepting yet: stops the daemons started so far
            return NULL;
        }
    }
    group->accepting = 1;
    if (pthread_create(&group->acceptor, NULL, gw_mhd_group_accept_loop, group) != 0) {
        group->accepting = 0;
        close(fd);
        gw_mhd_group_stop(group);
        return NULL;
    }
    return group;
}

/// The port the group listens on (after starting on port 0); 0 when unknown.
static inline uint16_t gw_mhd_group_port(gw_mhd_group *_Nonnull group) {
    struct sockaddr_storage address;
    socklen_t length = sizeof(address);
    if (getsockname(group->listen_fd, (struct sockaddr *)&address, &length) != 0) return 0;
    if (address.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&address)->sin_port);
    if (address.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
    return 0;
}

/// Connections the accepting thread answered 503 and closed because the limit was reached.
static inline unsigned long gw_mhd_group_refused(gw_mhd_group *_Nonnull group) {
    return atomic_load(&group->refused);
}

/// Client connections open now, over every daemon of the group.
static inline unsigned int gw_mhd_group_connections(gw_mhd_group *_Nonnull group) {
    unsigned int total = 0;
    for (unsigned int i = 0; i < group->count; i++) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(group->daemons[i], MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (info != NULL) total += info->num_connections;
    }
    return total;
}

#endif
