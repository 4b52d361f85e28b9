/* admit.h -- who gets a connection slot, and who gives one up.
 *
 * Squatters must not lock an organizer out.  Two limits apply to a new
 * connection, counting only connections that are not already closing:
 *
 *   - per address: at most per_address connections from one peer address
 *     (loopback too).  At the limit, the oldest evictable connection from
 *     that address is closed to make room; with none, the new one is
 *     refused.
 *   - the reserve: once `reserved` or fewer slots of max_connections are
 *     free, every new connection first closes the oldest connection that
 *     has not passed Hello (with a token set) anywhere; only when none is
 *     left does it take a reserved slot.
 *   - a full table closes the oldest evictable connection, or refuses.
 *
 * Evictable (admit_rank()): with a token, a connection that has not
 * passed Hello (ADMIT_RANK_UNAUTHENTICATED), since an organizer always
 * can; then, token or not, the connections that wait for pushes
 * (ADMIT_RANK_SUBSCRIBER), but only to a full table: they may be
 * legitimate screens, which reconnect, while a table full of subscribers
 * that never read (a leaked token is enough) must not lock the organizer
 * out.  The newcomer is never judged: it may be the organizer.
 */
#ifndef MINGLE_ADMIT_H
#define MINGLE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

struct admit_limits {
    uint32_t max_connections;
    uint32_t per_address;
    uint32_t reserved;
};

/* How readily a live connection gives way to a newcomer. */
enum admit_rank {
    ADMIT_RANK_KEEP,
    ADMIT_RANK_SUBSCRIBER,
    ADMIT_RANK_UNAUTHENTICATED,
};

/* What the owner counted over its open connections for one newcomer; the
 * victims it chose are the oldest of the highest rank. */
struct admit_count {
    size_t live;                       /* not closing */
    size_t from_address;               /* live, from the newcomer's address */
    enum admit_rank victim_rank;         /* highest rank among the live */
    enum admit_rank address_victim_rank; /* ... from the newcomer's address */
};

enum admit_verdict {
    ADMIT_OK,
    ADMIT_EVICT,         /* close the oldest evictable one, then admit */
    ADMIT_EVICT_ADDRESS, /* same, among those from the newcomer's address */
    ADMIT_REFUSE_ADDRESS,
    ADMIT_REFUSE_FULL,
};

/* The decision for one newcomer; pure. */
enum admit_verdict admit_decide(const struct admit_limits *lim,
                                const struct admit_count *n);

/* The rank of a live connection (see above). */
enum admit_rank admit_rank(bool token_required, bool authenticated,
                           bool subscribed);

/* Whether `a` and `b` are the same host address (ports ignored); an
 * IPv4-mapped IPv6 address equals its IPv4 address. */
bool admit_same_address(const struct sockaddr_storage *a,
                        const struct sockaddr *b);

/* "1.2.3.4:56" or "[::1]:56" into buf[cap]. */
void admit_format_addr(const struct sockaddr *sa, char *buf, size_t cap);

/* Tells the peer on `fd` why in one small non-blocking write (an Error
 * RESOURCE_EXHAUSTED frame) and closes `fd`.  No connection object is
 * spent on it, so a flood costs nothing lasting. */
void admit_refuse(int fd, const char *why);

#endif
