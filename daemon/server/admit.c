/* admit.c -- connection admission: the limits and who is evicted. */
#include "admit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "dispatch.h"

enum admit_verdict admit_decide(const struct admit_limits *lim,
                                const struct admit_count *n)
{
    if (n->from_address >= lim->per_address)
        return n->address_victim_rank != ADMIT_RANK_KEEP
                   ? ADMIT_EVICT_ADDRESS
                   : ADMIT_REFUSE_ADDRESS;
    /* Evicting before the table is full keeps the reserve free for the
     * next organizer, instead of making it race the squatters. */
    if (n->live + lim->reserved >= lim->max_connections &&
        n->victim_rank == ADMIT_RANK_UNAUTHENTICATED)
        return ADMIT_EVICT;
    if (n->live >= lim->max_connections)
        return n->victim_rank != ADMIT_RANK_KEEP ? ADMIT_EVICT
                                                 : ADMIT_REFUSE_FULL;
    return ADMIT_OK;
}

enum admit_rank admit_rank(bool token_required, bool authenticated,
                           bool subscribed)
{
    if (token_required && !authenticated)
        return ADMIT_RANK_UNAUTHENTICATED;
    return subscribed ? ADMIT_RANK_SUBSCRIBER : ADMIT_RANK_KEEP;
}

/* The IPv4 address in `sa`, mapped or plain; false for other IPv6. */
static bool admit_v4(const struct sockaddr *sa, struct in_addr *out)
{
    static const unsigned char mapped[12] = {[10] = 0xFF, [11] = 0xFF};

    if (sa->sa_family == AF_INET) {
        *out = ((const struct sockaddr_in *)sa)->sin_addr;
        return true;
    }
    if (sa->sa_family != AF_INET6)
        return false;
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (memcmp(a6->s6_addr, mapped, sizeof(mapped)) != 0)
        return false;
    memcpy(&out->s_addr, a6->s6_addr + 12, 4);
    return true;
}

bool admit_same_address(const struct sockaddr_storage *a,
                        const struct sockaddr *b)
{
    const struct sockaddr *sa = (const struct sockaddr *)a;
    struct in_addr a4, b4;
    bool av4 = admit_v4(sa, &a4);
    bool bv4 = admit_v4(b, &b4);

    if (av4 || bv4)
        return av4 && bv4 && a4.s_addr == b4.s_addr;
    if (sa->sa_family != AF_INET6 || b->sa_family != AF_INET6)
        return false;
    return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
}

void admit_format_addr(const struct sockaddr *sa, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(buf, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
        snprintf(buf, cap, "%s:%u", host, ntohs(in4->sin_port));
    }
}

void admit_refuse(int fd, const char *why)
{
    uint8_t *frame = NULL;
    size_t len = 0;
    if (dispatch_error_frame(DISPATCH_ERR_RESOURCE_EXHAUSTED, why, &frame,
                             &len) == 0) {
        ssize_t n = send(fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)n;
    }
    free(frame);
    shutdown(fd, SHUT_WR);
    close(fd);
}
