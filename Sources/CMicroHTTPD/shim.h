#ifndef REDIS_GATEWAY_CMICROHTTPD_SHIM_H
#define REDIS_GATEWAY_CMICROHTTPD_SHIM_H

// libmicrohttpd 0.9.75 (Debian 12). MHD_start_daemon and MHD_get_daemon_info are C-variadic and
// the Swift importer drops them; these prefixed inline functions are the only way Swift starts
// a daemon and reads its bound port.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <microhttpd.h>

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
} gw_mhd_settings;

/// Starts an internally polled, thread-pooled daemon bound to settings->host:settings->port.
/// Returns NULL when the address is not numeric or the daemon cannot start (port in use, ...).
static inline struct MHD_Daemon *_Nullable gw_mhd_start(
    const gw_mhd_settings *_Nonnull settings,
    MHD_AccessHandlerCallback _Nonnull handler,
    void *_Nullable handler_context,
    MHD_RequestCompletedCallback _Nonnull completed,
    void *_Nullable completed_context)
{
    struct sockaddr_in addr4;
    struct sockaddr_in6 addr6;
    const struct sockaddr *addr = NULL;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME;
    memset(&addr4, 0, sizeof(addr4));
    memset(&addr6, 0, sizeof(addr6));
    if (inet_pton(AF_INET, settings->host, &addr4.sin_addr) == 1) {
        addr4.sin_family = AF_INET;
        addr4.sin_port = htons(settings->port);
        addr = (const struct sockaddr *)&addr4;
    } else if (inet_pton(AF_INET6, settings->host, &addr6.sin6_addr) == 1) {
        addr6.sin6_family = AF_INET6;
        addr6.sin6_port = htons(settings->port);
        addr = (const struct sockaddr *)&addr6;
        flags |= MHD_USE_IPv6;
    } else {
        return NULL;
    }
    if (settings->thread_pool_size == 0) {
        flags = (flags & ~(unsigned int)MHD_USE_AUTO) | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    }
    struct MHD_OptionItem options[10];
    unsigned int count = 0;
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, (void *)addr };
    if (settings->thread_pool_size > 0) {
        options[count++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, settings->thread_pool_size, NULL };
    }
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, settings->connection_limit, NULL };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT, settings->per_ip_connection_limit, NULL };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, settings->connection_timeout_s, NULL };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)settings->connection_memory_limit, NULL };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)&gw_mhd_identity_unescape, NULL };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, completed_context };
    options[count++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
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

#endif
