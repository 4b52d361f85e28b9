/* server.c -- the run loop, signals, the reload, and the clients' lives.
 *
 * Ownership: the server owns one `server_client` per accepted connection
 * (listen.c makes them) and frees it only from the reaper, an event it
 * activates when a connection reports `done`.  Connections therefore never
 * disappear while one of their callbacks (or a publish iterating over
 * them, topic.c) is running; a dead client merely stops receiving until
 * the reaper runs.
 *
 * The planner thread (planner.h) is the server's too: started before the
 * state is loaded, joined before anything else is freed.
 */
#include "server.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "daemon_config.h"
#include "dispatch.h"
#include "log.h"
#include "meetup.h"
#include "planner.h"
#include "server_impl.h"
#include "store.h"
#include "tls.h"

/* How long a stop may take beyond the connections' own flush deadline. */
#define SERVER_STOP_SLACK_MS 250
/* How often unfinished housekeeping is retried (dispatch_tidy()). */
#define SERVER_TIDY_EVERY_MS 50
/* How long after a subscriber is freed its memory goes back to the
 * system (server_trim_cb). */
#define SERVER_TRIM_DELAY_MS 200
/* Room for why a TLS file was refused: two paths and OpenSSL's reason. */
#define SERVER_TLS_WHY_BYTES 512

/* ---- configuration ---------------------------------------------------- */

static enum log_level server_log_level(enum cfg_log_level level)
{
    static const enum log_level map[] = {
        [CFG_LOG_ERROR] = LOG_LEVEL_ERROR, [CFG_LOG_WARN] = LOG_LEVEL_WARN,
        [CFG_LOG_INFO] = LOG_LEVEL_INFO, [CFG_LOG_DEBUG] = LOG_LEVEL_DEBUG};

    return (size_t)level < sizeof(map) / sizeof(map[0]) ? map[level]
                                                        : LOG_LEVEL_INFO;
}

/* The settings that may change while running (see server.h). */
static void server_apply_cfg(struct server *srv, const struct cfg_daemon *cfg,
                             uint32_t max_frame_bytes)
{
    srv->limits.max_frame_bytes = max_frame_bytes;
    srv->limits.frame_timeout_ms = cfg->frame_timeout_ms;
    srv->limits.idle_timeout_ms = cfg->idle_timeout_ms;
    srv->limits.output_cap_bytes = cfg->output_cap_bytes;
    srv->token_set = cfg->auth_token != NULL;
    srv->limits.hello_timeout_ms = srv->token_set ? cfg->hello_timeout_ms : 0;
    srv->admit = (struct admit_limits){cfg->max_connections,
                                       cfg->max_connections_per_address,
                                       cfg->reserved_connections};
    log_set_level(server_log_level(cfg->log_level));
}

/* Which certificate is served: the first thing to check when clients
 * refuse it (expired, wrong name). */
static void server_log_tls(const struct server *srv, const char *when)
{
    char cert[256];

    tls_ctx_describe(srv->tls, cert, sizeof(cert));
    log_msg(LOG_LEVEL_INFO, 0, "%sTLS certificate: %s", when, cert);
}

/* The TLS context a reload asks for, made before anything is applied so
 * that a bad file keeps the whole running config.  Returns 0 with *out
 * set (NULL: keep the running one), or -EINVAL, logged. */
static int server_reload_tls(struct server *srv, const struct cfg_daemon *next,
                             struct tls_ctx **out)
{
    char why[SERVER_TLS_WHY_BYTES];

    *out = NULL;
    /* Listeners are TLS or not from the start (one port, one protocol). */
    if ((srv->tls != NULL) != (next->tls_cert_file != NULL)) {
        log_msg(LOG_LEVEL_WARN, 0, "SIGHUP: the TLS files would turn TLS "
                "%s; restart to apply", srv->tls != NULL ? "off" : "on");
        return 0;
    }
    if (srv->tls == NULL)
        return 0;
    *out = tls_ctx_new(next->tls_cert_file, next->tls_key_file, why,
                       sizeof(why));
    if (*out != NULL)
        return 0;
    log_msg(LOG_LEVEL_ERROR, 0, "SIGHUP: %s; config kept", why);
    return -EINVAL;
}

static void server_reload(struct server *srv)
{
    struct cfg_daemon next = {0};
    struct cfg_error err;
    struct tls_ctx *tls = NULL;
    char msg[CFG_ERROR_MSG_BYTES + CFG_ERROR_FILE_BYTES + 32];

    if (srv->config_path == NULL) {
        log_msg(LOG_LEVEL_WARN, 0, "SIGHUP: no config file to reload");
        return;
    }
    if (cfg_daemon_load(srv->config_path, &next, &err) != 0 ||
        cfg_daemon_check(&next, &err) != 0 ||
        cfg_daemon_check_reload(srv->cfg, &next, &err) != 0) {
        log_msg(LOG_LEVEL_ERROR, 0, "SIGHUP: %s; config kept",
                cfg_error_format(&err, msg, sizeof(msg)));
        goto out;
    }
    if (server_reload_tls(srv, &next, &tls) != 0)
        goto out;
    /* Compared with the config the daemon started with: these are fixed
     * by the listeners and by dispatch (HelloReply). */
    const struct cfg_daemon *boot = srv->cfg;
    if (!cfg_daemon_same_listeners(boot, &next))
        log_msg(LOG_LEVEL_WARN, 0,
                "SIGHUP: listen addresses or port differ; restart to apply");
    if (strcmp(boot->data_dir, next.data_dir) != 0)
        log_msg(LOG_LEVEL_WARN, 0,
                "SIGHUP: data_dir differs; restart to apply");
    if (boot->max_frame_bytes != next.max_frame_bytes)
        log_msg(LOG_LEVEL_WARN, 0,
                "SIGHUP: max_frame_bytes differs; restart to apply");
    bool had_token = srv->token_set;
    int changed = dispatch_set_auth_token(srv->dispatch, next.auth_token);
    if (changed < 0) {
        log_msg(LOG_LEVEL_ERROR, 0, "SIGHUP: out of memory; config kept");
        goto out;
    }
    /* A rotated token is usually a leaked one: nobody keeps its rights. */
    for (struct server_client *cl = srv->clients; cl != NULL; cl = cl->next)
        if (changed && next.auth_token != NULL && !cl->dead &&
            (!had_token || conn_session(cl->conn)->authenticated))
            conn_close(cl->conn, DISPATCH_ERR_UNAUTHENTICATED,
                       "the auth token changed");
    if ((boot->plan_max_seconds == 0) != (next.plan_max_seconds == 0))
        log_msg(LOG_LEVEL_WARN, 0, "SIGHUP: plan_max_seconds turns "
                "background planning %s; restart to apply",
                next.plan_max_seconds == 0 ? "off" : "on");
    else if (srv->planner != NULL)
        planner_set_time_limit(srv->planner, next.plan_max_seconds * 1000u);
    server_apply_cfg(srv, &next, srv->limits.max_frame_bytes);
    for (struct server_client *cl = srv->clients; cl != NULL; cl = cl->next)
        if (!cl->dead)
            conn_set_limits(cl->conn, &srv->limits);
    /* Open connections keep the context they were made with. */
    if (tls != NULL) {
        tls_ctx_free(srv->tls);
        srv->tls = tls;
        tls = NULL;
        server_log_tls(srv, "SIGHUP: ");
    }
    log_msg(LOG_LEVEL_INFO, 0, "SIGHUP: config reloaded from %s",
            srv->config_path);
out:
    tls_ctx_free(tls);
    cfg_daemon_free(&next);
}

/* ---- subscriptions ---------------------------------------------------- */


static int server_op_send(void *peer, const uint8_t *frame, size_t len)
{
    struct server_client *cl = peer;
    return conn_send(cl->conn, frame, len);
}

static void server_op_stats(void *server, uint32_t *connections,
                            uint32_t *subscribers)
{
    struct server *srv = server;
    *connections = (uint32_t)srv->n_clients;
    *subscribers = (uint32_t)srv->n_subs;
}

/* ---- background planning --------------------------------------------- */

static void server_op_plan(void *server, uint64_t event_id,
                           struct meetup_plan_job *job)
{
    struct server *srv = server;

    if (srv->planner == NULL || srv->stopping) {
        meetup_plan_job_free(job);
        return;
    }
    if (job == NULL)
        planner_cancel(srv->planner, event_id);
    else if (planner_submit(srv->planner, job) == -ENOMEM)
        log_msg(LOG_LEVEL_WARN, 0, "event %llu: out of memory to queue its "
                "planning; NextRound plans on the spot",
                (unsigned long long)event_id);
}

static void server_op_plan_status(void *server, uint64_t event_id,
                                  struct dispatch_plan_status *out)
{
    struct server *srv = server;
    struct planner_status st;

    out->state = DISPATCH_PLAN_OFF;
    out->age_ms = 0;
    if (srv->planner == NULL)
        return;
    planner_status(srv->planner, event_id, &st);
    out->age_ms = st.age_ms;
    out->state = st.state == PLANNER_WORKING     ? DISPATCH_PLAN_WORKING
                 : st.state == PLANNER_CONVERGED ? DISPATCH_PLAN_CONVERGED
                                                 : DISPATCH_PLAN_IDLE;
}

static int server_plan_deliver(void *ctx, struct meetup_plan_result *res)
{
    struct server *srv = ctx;

    return dispatch_plan_install(srv->dispatch, res);
}

static const struct dispatch_ops server_dispatch_ops = {
    .send = server_op_send,
    .subscribe = topic_subscribe,
    .unsubscribe = topic_unsubscribe,
    .publish = topic_publish,
    .stats = server_op_stats,
    .plan = server_op_plan,
    .plan_status = server_op_plan_status,
};

/* ---- housekeeping ----------------------------------------------------- */

static void server_tidy_arm(struct server *srv)
{
    struct timeval tv = {0, SERVER_TIDY_EVERY_MS * 1000};

    if (!evtimer_pending(srv->tidy, NULL))
        evtimer_add(srv->tidy, &tv);
}

static void server_tidy_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    if (dispatch_tidy(srv->dispatch))
        server_tidy_arm(srv);
}

/* ---- connections ------------------------------------------------------ */

static void server_stop(struct server *srv);

static enum dispatch_verdict server_on_frame(void *owner, struct conn *c,
                                             const uint8_t *body, size_t len)
{
    struct server_client *cl = owner;
    enum dispatch_verdict v =
        dispatch_handle(cl->srv->dispatch, cl, conn_session(c), body, len);

    if (dispatch_tidy_pending(cl->srv->dispatch))
        server_tidy_arm(cl->srv);

    if (v != DISPATCH_STOP)
        return v;
    /* Memory may now be ahead of the disk: serving on would answer from
     * state a restart would not bring back. */
    if (!cl->srv->failed)
        log_msg(LOG_LEVEL_ERROR, 0, "the store failed: stopping");
    cl->srv->failed = true;
    server_stop(cl->srv);
    return DISPATCH_CLOSE;
}

static void server_on_done(void *owner, struct conn *c)
{
    struct server_client *cl = owner;
    (void)c;
    if (cl->dead)
        return;
    cl->dead = true;
    cl->next_dead = cl->srv->dead;
    cl->srv->dead = cl;
    event_active(cl->srv->reaper, EV_TIMEOUT, 0);
}

const struct conn_hooks server_conn_hooks = {
    .frame = server_on_frame,
    .done = server_on_done,
};

/* Gives the heap's free top back to the system.  A subscriber dropped
 * for not reading leaves its share of pushes behind, and glibc keeps
 * freed memory for reuse: without this an evening's peak would stay the
 * daemon's size. */
static void server_trim_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static void server_client_free(struct server *srv, struct server_client *cl)
{
    /* libevent frees a bufferevent's buffers from its loop, after this:
     * the trim waits a little. */
    if (cl->subs > 0 && !evtimer_pending(srv->trim, NULL)) {
        struct timeval tv = {0, SERVER_TRIM_DELAY_MS * 1000};
        evtimer_add(srv->trim, &tv);
    }
    topic_unsubscribe_all(srv, cl);
    if (cl->prev != NULL)
        cl->prev->next = cl->next;
    else
        srv->clients = cl->next;
    if (cl->next != NULL)
        cl->next->prev = cl->prev;
    srv->n_clients--;
    log_msg(LOG_LEVEL_DEBUG, conn_id(cl->conn), "connection freed");
    conn_free(cl->conn);
    free(cl);
}

static void server_reap_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    while (srv->dead != NULL) {
        struct server_client *cl = srv->dead;
        srv->dead = cl->next_dead;
        server_client_free(srv, cl);
    }
    if (srv->stopping && srv->n_clients == 0)
        event_base_loopbreak(srv->base);
}

/* ---- signals and stopping --------------------------------------------- */

static void server_stop(struct server *srv)
{
    if (srv->stopping)
        return;
    srv->stopping = true;
    log_msg(LOG_LEVEL_INFO, 0, "stopping: %zu connection(s) to flush",
            srv->n_clients);
    if (srv->planner != NULL)
        planner_stop(srv->planner);
    for (size_t i = 0; i < srv->n_listeners; i++)
        evconnlistener_free(srv->listeners[i]);
    srv->n_listeners = 0;
    for (struct server_client *cl = srv->clients; cl != NULL; cl = cl->next)
        if (!cl->dead)
            conn_close(cl->conn, DISPATCH_ERR_UNAVAILABLE,
                       "server shutting down");
    const uint32_t stop_ms = CONN_FLUSH_TIMEOUT_MS + SERVER_STOP_SLACK_MS;
    struct timeval tv = {
        .tv_sec = stop_ms / 1000,
        .tv_usec = (stop_ms % 1000) * 1000,
    };
    event_add(srv->stop_timer, &tv);
    /* Every connection may already be done: let the reaper decide. */
    event_active(srv->reaper, EV_TIMEOUT, 0);
}

static void server_stop_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    log_msg(LOG_LEVEL_WARN, 0, "stop: %zu connection(s) did not flush in time",
            srv->n_clients);
    event_base_loopbreak(srv->base);
}

static void server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;
    (void)what;
    if (sig == SIGHUP) {
        server_reload(srv);
        return;
    }
    log_msg(LOG_LEVEL_INFO, 0, "caught %s",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    /* A second signal means "now": whoever sent it has stopped waiting. */
    if (srv->stopping)
        event_base_loopbreak(srv->base);
    else
        server_stop(srv);
}

/* ---- setup and teardown ----------------------------------------------- */

static void server_teardown(struct server *srv)
{
    /* First: the thread must be gone before anything it may reach is. */
    planner_free(srv->planner);
    srv->planner = NULL;
    while (srv->clients != NULL)
        server_client_free(srv, srv->clients);
    for (size_t i = 0; i < srv->n_listeners; i++)
        evconnlistener_free(srv->listeners[i]);
    free(srv->listeners);
    free(srv->topics);
    dispatch_free(srv->dispatch);
    tls_ctx_free(srv->tls);
    struct event *evs[] = {srv->sig_int, srv->sig_term, srv->sig_hup,
                           srv->reaper, srv->stop_timer, srv->resume_accept,
                           srv->tidy, srv->trim};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    if (srv->base != NULL)
        event_base_free(srv->base);
}

static int server_setup(struct server *srv)
{
    srv->base = event_base_new();
    if (srv->base == NULL)
        return -ENOMEM;
    srv->sig_int = evsignal_new(srv->base, SIGINT, server_signal_cb, srv);
    srv->sig_term = evsignal_new(srv->base, SIGTERM, server_signal_cb, srv);
    srv->sig_hup = evsignal_new(srv->base, SIGHUP, server_signal_cb, srv);
    srv->reaper = event_new(srv->base, -1, 0, server_reap_cb, srv);
    srv->stop_timer = evtimer_new(srv->base, server_stop_timer_cb, srv);
    srv->resume_accept = evtimer_new(srv->base, listen_resume_cb, srv);
    srv->tidy = evtimer_new(srv->base, server_tidy_cb, srv);
    srv->trim = evtimer_new(srv->base, server_trim_cb, srv);
    if (srv->sig_int == NULL || srv->sig_term == NULL || srv->sig_hup == NULL ||
        srv->reaper == NULL || srv->stop_timer == NULL ||
        srv->resume_accept == NULL || srv->tidy == NULL || srv->trim == NULL)
        return -ENOMEM;
    if (evsignal_add(srv->sig_int, NULL) != 0 ||
        evsignal_add(srv->sig_term, NULL) != 0 ||
        evsignal_add(srv->sig_hup, NULL) != 0)
        return -EINVAL;

    const struct cfg_daemon *cfg = srv->cfg;
    int err = 0;
    /* First: a bad certificate must not cost a store open or a bind. */
    if (cfg->tls_cert_file != NULL) {
        char why[SERVER_TLS_WHY_BYTES];

        srv->tls = tls_ctx_new(cfg->tls_cert_file, cfg->tls_key_file, why,
                               sizeof(why));
        if (srv->tls == NULL) {
            log_msg(LOG_LEVEL_ERROR, 0, "refusing to start: %s", why);
            return -EINVAL;
        }
        server_log_tls(srv, "");
    }
    if (cfg->plan_max_seconds > 0) {
        srv->planner = planner_new(srv->base, cfg->plan_max_seconds * 1000u,
                                   server_plan_deliver, srv, &err);
        if (srv->planner == NULL) {
            log_msg(LOG_LEVEL_ERROR, 0, "cannot start the planner: %s",
                    strerror(-err));
            return err;
        }
    }
    struct dispatch_config dcfg = {
        .max_frame_bytes = cfg->max_frame_bytes,
        .auth_token = cfg->auth_token,
        .data_dir = cfg->data_dir,
    };
    char why[STORE_ERR_BYTES];
    srv->dispatch = dispatch_new(&dcfg, &server_dispatch_ops, srv, &err, why,
                                 sizeof(why));
    if (srv->dispatch == NULL) {
        log_msg(LOG_LEVEL_ERROR, 0, "refusing to start: %s", why);
        return err != 0 ? err : -ENOMEM;
    }
    for (size_t i = 0; i < cfg->n_listen; i++) {
        int rc = listen_open(srv, cfg->listen[i], cfg->port);
        if (rc != 0)
            return rc;
    }
    if (srv->n_listeners == 0) {
        log_msg(LOG_LEVEL_ERROR, 0, "no listen address configured");
        return -EINVAL;
    }
    /* Planning resumes from the stored state after a restart. */
    dispatch_plan_all(srv->dispatch);
    return 0;
}

int server_run(const struct cfg_daemon *cfg, const char *config_path)
{
    struct server srv = {.cfg = cfg, .config_path = config_path};
    struct cfg_error cerr;
    char msg[CFG_ERROR_MSG_BYTES + CFG_ERROR_FILE_BYTES + 32];
    int rc = 0;

    if (cfg_daemon_check(cfg, &cerr) != 0) {
        log_msg(LOG_LEVEL_ERROR, 0, "refusing to start: %s",
                cfg_error_format(&cerr, msg, sizeof(msg)));
        return -EINVAL;
    }
    server_apply_cfg(&srv, cfg, cfg->max_frame_bytes);
    /* The "listening on" lines are the daemon's address when it picked its
     * own port: show them whatever the configured level. */
    enum log_level level = log_get_level();
    if (level < LOG_LEVEL_INFO)
        log_set_level(LOG_LEVEL_INFO);

    /* A peer that vanishes mid-write must cost an EPIPE, not the daemon. */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, NULL);

    rc = server_setup(&srv);
    log_set_level(level);
    if (rc != 0)
        goto out;
    if (event_base_dispatch(srv.base) < 0) {
        log_msg(LOG_LEVEL_ERROR, 0, "event loop failed");
        rc = -EIO;
        goto out;
    }
    if (srv.failed) {
        rc = -EIO;
        log_msg(LOG_LEVEL_ERROR, 0, "stopped after a storage failure");
        goto out;
    }
    log_msg(LOG_LEVEL_INFO, 0, "stopped");
out:
    server_teardown(&srv);
    return rc;
}
