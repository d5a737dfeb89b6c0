#ifndef REDIS_GATEWAY_CGNUTLS_SHIM_H
#define REDIS_GATEWAY_CGNUTLS_SHIM_H

// GnuTLS 3.7 (Debian 12), the TLS library libmicrohttpd already links: the client side of TLS for
// connections to Redis. The gateway owns the socket (hiredis 0.14 has no TLS); these prefixed
// functions are the only calls into GnuTLS. Sessions do their I/O on the socket's own blocking
// timeouts (SO_RCVTIMEO/SO_SNDTIMEO), so a stalled peer fails a read with errno EAGAIN.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/// What the gateway trusts and presents: a CA bundle (or the system's store) and an optional client
/// certificate. Shared, read-only, by every session of a pool.
typedef struct gw_tls_credentials {
    gnutls_certificate_credentials_t _Nonnull credentials;
} gw_tls_credentials;

/// One TLS session over a connected socket, and how its reads wait (flags for recv).
typedef struct gw_tls_session {
    gnutls_session_t _Nonnull session;
    int fd;
    int recv_flags;
    int would_block;  // the last read of the socket found nothing (timeout, or nothing now)
    int last_error;   // the GnuTLS error that failed the last read or write (errno EPROTO)
} gw_tls_session;

static inline void gw_tls_describe(char *_Nonnull error, size_t error_length, const char *_Nonnull what, int code) {
    snprintf(error, error_length, "%s: %s", what, gnutls_strerror(code));
}

/// Loads the CA bundle (`ca_file`, or the system trust store when NULL) and the client certificate
/// (`cert_file` and `key_file`, both or neither). NULL with `error` filled when a file is unusable.
static inline gw_tls_credentials *_Nullable gw_tls_credentials_new(
    const char *_Nullable ca_file, const char *_Nullable cert_file, const char *_Nullable key_file,
    char *_Nonnull error, size_t error_length) {
    gnutls_certificate_credentials_t credentials;
    int code = gnutls_certificate_allocate_credentials(&credentials);
    if (code < 0) { gw_tls_describe(error, error_length, "cannot allocate TLS credentials", code); return NULL; }
    if (ca_file != NULL) {
        code = gnutls_certificate_set_x509_trust_file(credentials, ca_file, GNUTLS_X509_FMT_PEM);
        if (code == 0) code = GNUTLS_E_NO_CERTIFICATE_FOUND;
        if (code < 0) { snprintf(error, error_length, "cannot read the CA file %s: %s", ca_file, gnutls_strerror(code)); goto fail; }
    } else {
        code = gnutls_certificate_set_x509_system_trust(credentials);
        if (code < 0) { gw_tls_describe(error, error_length, "cannot read the system trust store", code); goto fail; }
    }
    if (cert_file != NULL && key_file != NULL) {
        code = gnutls_certificate_set_x509_key_file(credentials, cert_file, key_file, GNUTLS_X509_FMT_PEM);
        if (code < 0) {
            snprintf(error, error_length, "cannot read the certificate %s or key %s: %s", cert_file, key_file, gnutls_strerror(code));
            goto fail;
        }
    }
    gw_tls_credentials *result = malloc(sizeof(gw_tls_credentials));
    if (result == NULL) { snprintf(error, error_length, "out of memory"); goto fail; }
    result->credentials = credentials;
    return result;
fail:
    gnutls_certificate_free_credentials(credentials);
    return NULL;
}

/// Credentials that trust nothing and present nothing: for a handshake whose peer is not verified
/// (the health check of the gateway's own HTTPS port on loopback).
static inline gw_tls_credentials *_Nullable gw_tls_credentials_unverified(void) {
    gw_tls_credentials *result = malloc(sizeof(gw_tls_credentials));
    if (result == NULL) return NULL;
    if (gnutls_certificate_allocate_credentials(&result->credentials) < 0) { free(result); return NULL; }
    return result;
}

/// Adds a certificate the credentials present to the peer (a client certificate); 0, or a GnuTLS error.
static inline int gw_tls_credentials_present(gw_tls_credentials *_Nonnull credentials, const char *_Nonnull cert_file, const char *_Nonnull key_file) {
    int code = gnutls_certificate_set_x509_key_file(credentials->credentials, cert_file, key_file, GNUTLS_X509_FMT_PEM);
    return code < 0 ? code : 0;
}

static inline void gw_tls_credentials_free(gw_tls_credentials *_Nonnull credentials) {
    gnutls_certificate_free_credentials(credentials->credentials);
    free(credentials);
}

static ssize_t gw_tls_pull(gnutls_transport_ptr_t context, void *data, size_t length) {
    gw_tls_session *s = (gw_tls_session *)context;
    ssize_t n = recv(s->fd, data, length, s->recv_flags);
    s->would_block = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    if (n < 0) gnutls_transport_set_errno(s->session, errno == EWOULDBLOCK ? EAGAIN : errno);
    return n;
}

static ssize_t gw_tls_push(gnutls_transport_ptr_t context, const void *data, size_t length) {
    gw_tls_session *s = (gw_tls_session *)context;
    ssize_t n = send(s->fd, data, length, MSG_NOSIGNAL);
    if (n < 0) gnutls_transport_set_errno(s->session, errno == EWOULDBLOCK ? EAGAIN : errno);
    return n;
}

/// Waits up to `ms` for the socket to be readable (GnuTLS' own wait takes the transport pointer for
/// a socket number, which it is not here): > 0 readable, 0 timed out, -1 failed.
static int gw_tls_pull_timeout(gnutls_transport_ptr_t context, unsigned int ms) {
    gw_tls_session *s = (gw_tls_session *)context;
    struct pollfd descriptor = {s->fd, POLLIN, 0};
    int ready;
    do {
        ready = poll(&descriptor, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
    } while (ready < 0 && errno == EINTR);
    return ready;
}

static int gw_tls_is_address(const char *_Nonnull host) {
    unsigned char buffer[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buffer) == 1 || inet_pton(AF_INET6, host, buffer) == 1;
}

/// Runs the client handshake on the connected socket `fd` within `timeout_ms`: TLS 1.2 at least,
/// SNI `server_name` (unless it is an address), and with `verify` the server's chain checked
/// against the credentials' CAs and its name against `server_name`. NULL with `error` naming the
/// problem (unknown CA, name mismatch, expired, refused client certificate, timeout) otherwise;
/// `*timed_out` says the peer did not answer in time.
static inline gw_tls_session *_Nullable gw_tls_handshake(
    gw_tls_credentials *_Nonnull credentials, int fd, const char *_Nonnull server_name, int verify, unsigned timeout_ms,
    int *_Nonnull timed_out, char *_Nonnull error, size_t error_length) {
    *timed_out = 0;
    gw_tls_session *s = calloc(1, sizeof(gw_tls_session));
    if (s == NULL) { snprintf(error, error_length, "out of memory"); return NULL; }
    s->fd = fd;
    // No session tickets: connections are not resumed, and a server then sends none after the handshake.
    int code = gnutls_init(&s->session, GNUTLS_CLIENT | GNUTLS_NO_TICKETS);
    if (code < 0) { gw_tls_describe(error, error_length, "TLS session", code); free(s); return NULL; }
    const char *failed_at = NULL;
    code = gnutls_priority_set_direct(s->session, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", &failed_at);
    if (code >= 0) code = gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE, credentials->credentials);
    if (code >= 0 && !gw_tls_is_address(server_name)) {
        code = gnutls_server_name_set(s->session, GNUTLS_NAME_DNS, server_name, strlen(server_name));
    }
    if (code < 0) { gw_tls_describe(error, error_length, "TLS session", code); goto fail; }
    if (verify) gnutls_session_set_verify_cert(s->session, server_name, 0);
    gnutls_transport_set_ptr(s->session, s);
    gnutls_transport_set_pull_function(s->session, gw_tls_pull);
    gnutls_transport_set_push_function(s->session, gw_tls_push);
    gnutls_transport_set_pull_timeout_function(s->session, gw_tls_pull_timeout);
    gnutls_handshake_set_timeout(s->session, timeout_ms == 0 ? 1 : timeout_ms);
    do {
        code = gnutls_handshake(s->session);
    } while (code < 0 && gnutls_error_is_fatal(code) == 0 && code != GNUTLS_E_AGAIN && code != GNUTLS_E_TIMEDOUT);
    if (code < 0) {
        if (code == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
            gnutls_datum_t text = {NULL, 0};
            unsigned status = gnutls_session_get_verify_cert_status(s->session);
            gnutls_certificate_type_t type = gnutls_certificate_type_get(s->session);
            if (gnutls_certificate_verification_status_print(status, type, &text, 0) >= 0 && text.data != NULL) {
                snprintf(error, error_length, "the Redis server's certificate was refused: %s", (const char *)text.data);
                gnutls_free(text.data);
            } else {
                gw_tls_describe(error, error_length, "the Redis server's certificate was refused", code);
            }
        } else if (code == GNUTLS_E_AGAIN || code == GNUTLS_E_TIMEDOUT) {
            *timed_out = 1;
            snprintf(error, error_length, "the TLS handshake did not finish in time");
        } else if (code == GNUTLS_E_FATAL_ALERT_RECEIVED) {
            const char *alert = gnutls_alert_get_name(gnutls_alert_get(s->session));
            snprintf(error, error_length, "the server ended the TLS handshake: %s", alert ? alert : "unknown alert");
        } else {
            gw_tls_describe(error, error_length, "the TLS handshake failed", code);
        }
        goto fail;
    }
    return s;
fail:
    gnutls_deinit(s->session);
    free(s);
    return NULL;
}

/// Reads up to `length` decrypted bytes: > 0 bytes, 0 when the peer closed, -1 on failure with
/// errno set (EAGAIN: nothing arrived within the socket timeout, or — with `nonblocking` — nothing
/// is there now). Records that carry no data (TLS 1.3 session tickets) are consumed on the way.
static inline ssize_t gw_tls_recv(gw_tls_session *_Nonnull s, void *_Nonnull buffer, size_t length, int nonblocking) {
    s->recv_flags = nonblocking ? MSG_DONTWAIT : 0;
    ssize_t n;
    do {
        s->would_block = 0;
        n = gnutls_record_recv(s->session, buffer, length);
        // GNUTLS_E_AGAIN also follows a record with no data (a post-handshake message): read on.
    } while (n == GNUTLS_E_INTERRUPTED || (n == GNUTLS_E_AGAIN && !s->would_block));
    s->recv_flags = 0;
    if (n >= 0) return n;
    if (n == GNUTLS_E_PREMATURE_TERMINATION) return 0;
    s->last_error = (int)n;
    errno = n == GNUTLS_E_AGAIN ? EAGAIN : (n == GNUTLS_E_PUSH_ERROR || n == GNUTLS_E_PULL_ERROR ? (errno ? errno : EIO) : EPROTO);
    return -1;
}

/// Writes all of `length` bytes, or -1 with errno set (EAGAIN: not written within the socket timeout).
static inline ssize_t gw_tls_send(gw_tls_session *_Nonnull s, const void *_Nonnull buffer, size_t length) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = gnutls_record_send(s->session, (const char *)buffer + done, length - done);
        if (n == GNUTLS_E_INTERRUPTED) continue;
        if (n == GNUTLS_E_AGAIN) { errno = EAGAIN; return -1; }  // the connection is given up
        if (n < 0) {
            s->last_error = (int)n;
            errno = n == GNUTLS_E_PUSH_ERROR ? (errno ? errno : EIO) : EPROTO;
            return -1;
        }
        done += (size_t)n;
    }
    return (ssize_t)done;
}

/// What failed the last read or write with EPROTO: GnuTLS' description, and the alert the server
/// sent when it ended the session (a refused client certificate arrives so, after a TLS 1.3 handshake).
static inline void gw_tls_last_error(gw_tls_session *_Nonnull s, char *_Nonnull error, size_t error_length) {
    if (s->last_error == GNUTLS_E_FATAL_ALERT_RECEIVED) {
        const char *alert = gnutls_alert_get_name(gnutls_alert_get(s->session));
        snprintf(error, error_length, "the server ended TLS: %s", alert ? alert : "unknown alert");
    } else {
        snprintf(error, error_length, "TLS: %s", gnutls_strerror(s->last_error));
    }
}

/// Decrypted bytes GnuTLS holds that no read has taken yet (a poll on the socket does not see them).
static inline size_t gw_tls_pending(gw_tls_session *_Nonnull s) {
    return gnutls_record_check_pending(s->session);
}

/// Ends the session (without waiting for the peer's close_notify); the socket stays open.
static inline void gw_tls_session_free(gw_tls_session *_Nonnull s) {
    gnutls_deinit(s->session);
    free(s);
}

#endif
