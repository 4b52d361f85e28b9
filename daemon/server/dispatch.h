/* dispatch.h -- turns request frames into engine calls and response frames.
 *
 * The boundary between the transport (server.c, conn.c: sockets, buffers,
 * timeouts) and the meaning of messages (this module: protobuf decoding,
 * validation, the meetup state).  The transport knows nothing about
 * scoring; dispatch knows nothing about sockets.  Only this module and
 * proto/ see generated protobuf names.
 */
#ifndef MINGLE_DISPATCH_H
#define MINGLE_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct meetup_plan_job;
struct meetup_plan_result;

/* The background planner as Stats and PreviewRound report it. */
enum dispatch_plan_state {
    DISPATCH_PLAN_OFF,       /* no background planning */
    DISPATCH_PLAN_IDLE,
    DISPATCH_PLAN_WORKING,
    DISPATCH_PLAN_CONVERGED,
};

struct dispatch_plan_status {
    enum dispatch_plan_state state;
    uint64_t age_ms; /* since the planner last improved the plan; 0: never */
};

/* What dispatch needs from the transport.  `peer` is the transport's
 * connection handle, `server` its server handle; both opaque here. */
struct dispatch_ops {
    /* Queues one complete frame (length prefix included) on `peer`.
     * Returns 0, or -ENOBUFS when the peer's output cap is exceeded (the
     * transport then drops the peer after the current callback). */
    int (*send)(void *peer, const uint8_t *frame, size_t len);
    /* Adds or removes `peer` as a subscriber of `event_id`; pushes carry
     * `request_id`.  Return 0 or a negative errno. */
    int (*subscribe)(void *peer, uint64_t event_id, uint64_t request_id);
    int (*unsubscribe)(void *peer, uint64_t event_id);
    /* Pushes to every subscriber of `event_id` a Response made of the
     * subscriber's request id followed by `body`: the already-encoded
     * Response oneof field (tag and length included), encoded once. */
    void (*publish)(void *server, uint64_t event_id, const uint8_t *body,
                    size_t len);
    /* Fills transport figures for Stats. */
    void (*stats)(void *server, uint32_t *connections, uint32_t *subscribers);
    /* Plans event `event_id` in the background from `job`, whose
     * ownership passes; with `job` NULL, stops planning the event (closed,
     * or nothing to plan).  NULL: no background planning. */
    void (*plan)(void *server, uint64_t event_id, struct meetup_plan_job *job);
    /* Fills the background planner's state for an event; NULL: off. */
    void (*plan_status)(void *server, uint64_t event_id,
                        struct dispatch_plan_status *out);
};

struct dispatch_config {
    uint32_t max_frame_bytes;  /* reported in HelloReply */
    const char *auth_token;    /* NULL or "": no Hello required; copied */
    const char *data_dir;      /* the store's directory, locked and loaded
                                  by dispatch_new(); NULL: in memory only */
};

/* Per-connection protocol state, owned by the transport's connection. */
struct dispatch_session {
    bool authenticated; /* a Hello with the right token was seen */
    uint64_t conn_id;   /* for logs */
};

/* What the transport should do after dispatch_handle(). */
enum dispatch_verdict {
    DISPATCH_CONTINUE, /* keep reading */
    DISPATCH_CLOSE,    /* flush what was queued, then close */
    DISPATCH_STOP,     /* the store failed: memory and disk may differ, so
                          flush the error, then stop the daemon (failure) */
};

struct dispatch;

/* Creates the dispatcher and the state it serves: with a data_dir, opens
 * and locks the store there and loads the acknowledged state from it.
 * Copies `cfg`; keeps `ops` and `server` (borrowed, must outlive it).
 * Returns NULL on failure, with *err set to a negative errno and a message
 * for the operator in msg[msgcap] (e.g. the data dir is in use, or its
 * database is corrupt). */
struct dispatch *dispatch_new(const struct dispatch_config *cfg,
                              const struct dispatch_ops *ops, void *server,
                              int *err, char *msg, size_t msgcap);

/* Replaces the auth token (SIGHUP): NULL or "" means none is required.
 * Sessions are not touched: closing those opened with an old token is the
 * transport's call.  Returns 1 when the token changed, 0 when it is the
 * same, or -ENOMEM with the old token kept. */
int dispatch_set_auth_token(struct dispatch *d, const char *token);

/* Housekeeping a request could not finish without making everyone wait:
 * today, folding the store's log after a forget while another process
 * reads the database (store_log_retry()).  dispatch_tidy_pending() says
 * whether any is left; dispatch_tidy() makes one attempt of a few ms at
 * most and returns whether some is still left.  The owner calls it from a
 * timer until it returns false. */
bool dispatch_tidy_pending(const struct dispatch *d);
bool dispatch_tidy(struct dispatch *d);

/* Frees the dispatcher and its state; NULL is a no-op. */
void dispatch_free(struct dispatch *d);

/* Hands ops->plan a planning job for every open event: planning resumes
 * from the loaded state after a restart.  After a committed change,
 * dispatch does this by itself for the events the change concerns. */
void dispatch_plan_all(struct dispatch *d);

/* Installs a plan the background planner made (meetup_plan_install()):
 * call it in the thread that calls dispatch_handle().  Returns 0 when the
 * plan is now the event's, -ESTALE or -EALREADY when it is of no use,
 * -ENOENT. */
int dispatch_plan_install(struct dispatch *d, struct meetup_plan_result *res);

/* Handles one request body (the frame without its length prefix), queues
 * the response(s) through ops->send, and says whether to keep the
 * connection.  Never frees `peer`. */
enum dispatch_verdict dispatch_handle(struct dispatch *d, void *peer,
                                      struct dispatch_session *s,
                                      const uint8_t *body, size_t len);

/* Error codes the transport itself reports (values of mingle.v1.ErrorCode). */
enum dispatch_error {
    DISPATCH_ERR_FRAME_TOO_BIG = 2,
    DISPATCH_ERR_BAD_FRAME = 3,
    DISPATCH_ERR_UNAUTHENTICATED = 4,
    DISPATCH_ERR_RESOURCE_EXHAUSTED = 8,
    DISPATCH_ERR_UNAVAILABLE = 10,
    DISPATCH_ERR_FRAME_TIMEOUT = 12,
    DISPATCH_ERR_IDLE_TIMEOUT = 13,
};

/* Encodes a complete Error response frame (id 0) for failures found by
 * the transport.  Stores a malloc'ed frame in *frame (caller frees) and
 * its length in *len.  Returns 0 or -ENOMEM. */
int dispatch_error_frame(enum dispatch_error code, const char *message,
                         uint8_t **frame, size_t *len);

#endif
