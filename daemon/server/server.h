/* server.h -- the live daemon: listeners, connections, signals, pushes.
 *
 * server_run() owns one libevent loop for the life of the daemon.  It
 * listens on every configured address, admits connections by the limits
 * of admit.h (max_connections, max_connections_per_address and the
 * reserve; a refused peer gets an Error RESOURCE_EXHAUSTED frame, then
 * close, or over TLS just the close), closes those that have not passed Hello within hello_timeout_ms
 * when a token is set, hands request frames to dispatch (dispatch.h) and implements
 * the transport side of dispatch: sending, subscriptions and fan-out of
 * pushed rounds.
 *
 * Log lines tests and scripts rely on (see log.h for the line prefix):
 *
 *     listening on 127.0.0.1:41234      one per listener, after bind; an
 *     listening on [::1]:41234          IPv6 address is in brackets, the
 *                                       port is the bound one (--port 0)
 *     stopped                           after a clean SIGINT/SIGTERM stop
 *
 * The listening lines are written even when log_level is warn or error.
 *
 * TLS: with tls_cert_file and tls_key_file every listener speaks TLS only
 * (tls.h), and the certificate is logged ("TLS certificate: CN = ...,
 * valid until ...") before the first listening line; a file that does
 * not load stops the start.  A failed handshake is one info line; one
 * that does not complete within frame_timeout_ms is closed.
 *
 * Signals: SIGPIPE is ignored.  SIGINT and SIGTERM stop accepting, give
 * queued output CONN_FLUSH_TIMEOUT_MS to drain (a second signal cuts that
 * short), and make server_run() return 0.  SIGHUP reloads the config file
 * all-or-nothing: a file that fails to load or check is logged and the
 * running config kept; timeouts, the output cap, max_connections and the
 * log level apply at once (to connections already open too), the
 * connection limits to the next newcomer and the Hello deadline to the
 * next connection.  A new auth token closes every connection that passed
 * Hello with the old one (or came in when there was none); removing the
 * token is refused while a listener that is not loopback is open, and so
 * is dropping plaintext_off_loopback while one serves without TLS
 * (cfg_daemon_check_reload(): the listeners are those of the start).
 * The TLS certificate and key are read again: new connections get them,
 * open ones keep theirs, and a file that does not load keeps the whole
 * config.  A changed listen address, port, data_dir or max_frame_bytes,
 * or TLS files that would turn TLS on or off, are logged as needing a
 * restart and otherwise ignored: listeners and the store are set up
 * once.
 *
 * Live rounds are planned in the background: one planner thread
 * (planner.h) improves each open event's plan after every change, for at
 * most plan_max_seconds per change (0: no planner thread; NextRound plans
 * on the spot), and from the loaded state at start.  SIGHUP applies a new
 * plan_max_seconds to the next jobs; turning planning on or off needs a
 * restart.  SIGINT and SIGTERM cancel the planner first.
 *
 * A failed store commit stops the daemon like SIGTERM, but server_run()
 * then returns -EIO: memory may be ahead of the disk, and serving on would
 * answer from state a restart would not bring back.
 */
#ifndef MINGLE_SERVER_H
#define MINGLE_SERVER_H

struct cfg_daemon;

/* Runs the daemon until SIGINT or SIGTERM.  `cfg` is checked with
 * cfg_daemon_check() first (a non-loopback address without an auth token
 * is refused) and borrowed for the duration of the call; `config_path`
 * (NULL: none) is the file SIGHUP reloads.  Returns 0 after a clean stop,
 * or a negative errno when the daemon could not start (bad config, address
 * in use, ...), with the reason logged. */
int server_run(const struct cfg_daemon *cfg, const char *config_path);

#endif
