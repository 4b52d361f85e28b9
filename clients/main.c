/* main.c -- minglectl: global options, the command table, help, and the
 * helpers every command shares.
 *
 * Global options (--host, --port, --token, --token-file, --timeout,
 * --tls, --ca-file) are accepted before or after the command words, so
 * "minglectl checkin anna --port 7500" works as well as the conventional
 * order.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "mingle_version.h"

#define CTL_MAX_TIMEOUT_S 86400u
#define CTL_MAX_WORDS 2
/* As the daemon's auth_token_file: a token is at most 256 bytes. */
#define CTL_TOKEN_FILE_MAX_BYTES 4096

__attribute__((format(printf, 1, 0)))
static void ctl_verror(const char *fmt, va_list ap)
{
    fputs("minglectl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void ctl_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ctl_verror(fmt, ap);
    va_end(ap);
}

int ctl_oom(void)
{
    ctl_error("out of memory");
    return CTL_EXIT_CONN;
}

int ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    ctl_verror(fmt, ap);
    va_end(ap);
    if (cmd != NULL)
        fprintf(stderr, "usage: minglectl %s %s\n", cmd->words, cmd->usage);
    else
        fputs("try 'minglectl --help'\n", stderr);
    return CTL_EXIT_USAGE;
}

int ctl_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Matches argv[*i] against option `name`; on a match stores the value
 * (from "--name=V" or the next argument) and advances *i past it. */
static int ctl_match_opt(const struct ctl_cmd *cmd, int argc, char **argv,
                         int *i, const struct ctl_opt *o, bool *matched)
{
    const char *arg = argv[*i];
    size_t len = strlen(o->name);

    *matched = false;
    if (strncmp(arg, o->name, len) != 0 ||
        (arg[len] != '\0' && arg[len] != '='))
        return CTL_EXIT_OK;
    *matched = true;
    if (o->value == NULL) {
        if (arg[len] == '=')
            return ctl_usage_error(cmd, "%s takes no value", o->name);
        *o->flag = true;
        return CTL_EXIT_OK;
    }
    if (arg[len] == '=') {
        *o->value = arg + len + 1;
        return CTL_EXIT_OK;
    }
    if (*i + 1 >= argc)
        return ctl_usage_error(cmd, "%s needs a value", o->name);
    *o->value = argv[++*i];
    return CTL_EXIT_OK;
}

int ctl_parse_args(const struct ctl_cmd *cmd, int argc, char **argv,
                   const struct ctl_opt *opts, size_t n_opts, int *npos)
{
    bool only_pos = false;
    int i, n = 0, rc;

    for (i = 0; i < argc; i++) {
        bool matched = false;
        size_t k;

        if (!only_pos && strcmp(argv[i], "--") == 0) {
            only_pos = true;
            continue;
        }
        if (only_pos || argv[i][0] != '-' || argv[i][1] == '\0') {
            argv[n++] = argv[i];
            continue;
        }
        for (k = 0; k < n_opts && !matched; k++) {
            rc = ctl_match_opt(cmd, argc, argv, &i, &opts[k], &matched);
            if (rc != CTL_EXIT_OK)
                return rc;
        }
        if (!matched)
            return ctl_usage_error(cmd, "unknown option '%s'", argv[i]);
    }
    *npos = n;
    return CTL_EXIT_OK;
}

int ctl_parse_exact(const struct ctl_cmd *cmd, int argc, char **argv,
                    const struct ctl_opt *opts, size_t n_opts, int npos,
                    const char *what)
{
    int got, rc = ctl_parse_args(cmd, argc, argv, opts, n_opts, &got);

    if (rc != CTL_EXIT_OK || got == npos)
        return rc;
    if (npos == 0)
        return ctl_usage_error(cmd, "unexpected argument '%s'", argv[0]);
    return ctl_usage_error(cmd, "expected %s", what);
}

int ctl_flush(const char *what)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ctl_error("cannot write %s: %s", what, strerror(errno));
        return CTL_EXIT_USAGE;
    }
    return CTL_EXIT_OK;
}

/* A ctl_conn failure as an exit status: a refusal by the server is not
 * a connection problem. */
static int ctl_exit_of(int rc)
{
    return rc == -EREMOTEIO ? CTL_EXIT_SERVER : CTL_EXIT_CONN;
}

int ctl_conn_fail(struct ctl *ctl, int rc)
{
    ctl_error("%s", ctl_conn_error(ctl->conn));
    return ctl_exit_of(rc);
}

int ctl_connect(struct ctl *ctl)
{
    char err[512];
    int rc;

    if (ctl->conn != NULL)
        return CTL_EXIT_OK;
    rc = ctl_conn_open(&ctl->opts, &ctl->conn, err, sizeof(err));
    if (rc != 0) {
        ctl_error("%s", err);
        return ctl_exit_of(rc);
    }
    return CTL_EXIT_OK;
}

int ctl_call(struct ctl *ctl, Mingle__V1__Request *req,
             Mingle__V1__Response__BodyCase want, Mingle__V1__Response **resp)
{
    int rc = ctl_connect(ctl);

    if (rc != CTL_EXIT_OK)
        return rc;
    rc = ctl_conn_call(ctl->conn, req, resp);
    if (rc != 0)
        return ctl_conn_fail(ctl, rc);
    if ((*resp)->body_case != want) {
        ctl_error("the server sent an unexpected kind of response");
        return CTL_EXIT_CONN;
    }
    return CTL_EXIT_OK;
}

int ctl_resolve_event(struct ctl *ctl, const char *arg, uint64_t *id)
{
    Mingle__V1__Request req = MINGLE__V1__REQUEST__INIT;
    Mingle__V1__ListEvents list = MINGLE__V1__LIST_EVENTS__INIT;
    Mingle__V1__Response *resp;
    uint64_t best = 0;
    size_t i;
    int rc;

    if (arg != NULL) {
        if (ctl_parse_u64(arg, UINT64_MAX, id) != 0 || *id == 0) {
            ctl_error("bad event id '%s': expected a positive number", arg);
            return CTL_EXIT_USAGE;
        }
        return CTL_EXIT_OK;
    }
    req.body_case = MINGLE__V1__REQUEST__BODY_LIST_EVENTS;
    req.list_events = &list;
    rc = ctl_call(ctl, &req, MINGLE__V1__RESPONSE__BODY_EVENTS, &resp);
    if (rc != CTL_EXIT_OK)
        return rc;
    /* Ids grow with creation, so the largest open id is the newest. */
    for (i = 0; i < resp->events->n_events; i++) {
        const Mingle__V1__EventInfo *e = resp->events->events[i];

        if (!e->closed && e->event_id > best)
            best = e->event_id;
    }
    if (best == 0) {
        ctl_error("no open event; create one with 'minglectl event create' "
                  "or name one with --event ID");
        return CTL_EXIT_SERVER;
    }
    *id = best;
    return CTL_EXIT_OK;
}

int ctl_event_args(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
                   char **argv, int npos, const char *what, uint64_t *id)
{
    const char *event = NULL;
    const struct ctl_opt opts[] = {{"--event", &event, NULL}};
    int rc = ctl_parse_exact(cmd, argc, argv, opts, 1, npos, what);

    return rc != CTL_EXIT_OK ? rc : ctl_resolve_event(ctl, event, id);
}

static const struct {
    const struct ctl_cmd *cmds;
    const size_t *n;
} ctl_tables[] = {
    {ctl_event_cmds, &ctl_event_n_cmds},
    {ctl_attendee_cmds, &ctl_attendee_n_cmds},
    {ctl_round_cmds, &ctl_round_n_cmds},
};

/* Whether command `c` is one of group `group` ("event"), whose name is
 * `glen` bytes long. */
static bool ctl_in_group(const struct ctl_cmd *c, const char *group,
                         size_t glen)
{
    return strncmp(c->words, group, glen) == 0 && c->words[glen] == ' ';
}

static void ctl_help(FILE *f, const char *group)
{
    size_t t, k, glen = group ? strlen(group) : 0;

    if (group == NULL)
        fputs("usage: minglectl [--host H] [--port P] [--token-file F] "
              "[--timeout S]\n"
              "                 [--tls [--ca-file F]] COMMAND ...\n"
              "\n"
              "The organizer's client for mingled: load attendees, check "
              "them in and out,\ncall rounds and watch the tables.\n"
              "\n"
              "Commands:\n",
              f);
    for (t = 0; t < sizeof(ctl_tables) / sizeof(ctl_tables[0]); t++) {
        for (k = 0; k < *ctl_tables[t].n; k++) {
            const struct ctl_cmd *c = &ctl_tables[t].cmds[k];

            if (group != NULL && !ctl_in_group(c, group, glen))
                continue;
            fprintf(f, "  %-18s %s\n", c->words, c->summary);
        }
    }
    if (group != NULL)
        return;
    fputs("\n"
          "Global options (also from MINGLE_HOST, MINGLE_PORT, "
          "MINGLE_TOKEN):\n"
          "  --host HOST        server address (default " CTL_DEFAULT_HOST
          ")\n"
          "  --port PORT        server port (default " CTL_DEFAULT_PORT ")\n"
          "  --token-file FILE  read the auth token from FILE (one trailing\n"
          "                     newline is dropped), when the server "
          "requires one\n"
          "  --token TOKEN      the same, but other users can read it in "
          "the\n                     process list: prefer MINGLE_TOKEN or "
          "--token-file\n"
          "  --timeout SECONDS  give up on a silent server (default 30)\n"
          "  --tls              talk TLS; the server's certificate must "
          "verify and\n                     name HOST\n"
          "  --ca-file FILE     with --tls: trust the CA certificates in "
          "FILE (PEM)\n                     instead of the system's\n"
          "\n"
          "Commands on an event take --event ID; the default is the newest\n"
          "open event.  'minglectl COMMAND --help' describes a command.\n"
          "\n"
          "Exit status: 0 success, 1 the server refused, 2 usage or bad "
          "input,\n3 cannot reach the server.\n",
          f);
}

static void ctl_cmd_help(const struct ctl_cmd *c)
{
    printf("usage: minglectl %s %s\n\n%s\n", c->words, c->usage, c->summary);
    if (c->help != NULL)
        printf("\n%s", c->help);
}

/* Whether `word` is the first of several command words ("event"). */
static bool ctl_is_group(const char *word)
{
    size_t t, k, len = strlen(word);

    for (t = 0; t < sizeof(ctl_tables) / sizeof(ctl_tables[0]); t++)
        for (k = 0; k < *ctl_tables[t].n; k++)
            if (ctl_in_group(&ctl_tables[t].cmds[k], word, len))
                return true;
    return false;
}

/* The command whose words start argv; sets *used to their count. */
static const struct ctl_cmd *ctl_find(int argc, char **argv, int *used)
{
    size_t t, k;

    for (t = 0; t < sizeof(ctl_tables) / sizeof(ctl_tables[0]); t++) {
        for (k = 0; k < *ctl_tables[t].n; k++) {
            const struct ctl_cmd *c = &ctl_tables[t].cmds[k];
            const char *w = c->words;
            int i = 0;

            while (i < argc && i < CTL_MAX_WORDS) {
                size_t len = strlen(argv[i]);

                if (strncmp(w, argv[i], len) != 0 ||
                    (w[len] != ' ' && w[len] != '\0'))
                    break;
                i++;
                w += len;
                if (*w == '\0') {
                    *used = i;
                    return c;
                }
                w++;
            }
        }
    }
    return NULL;
}

/* Reads the token in `path` into buf[cap]: the whole file, less one
 * trailing newline.  Returns CTL_EXIT_OK or CTL_EXIT_USAGE, said why. */
static int ctl_read_token_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n;
    int rc = CTL_EXIT_USAGE;

    if (f == NULL) {
        ctl_error("cannot read --token-file '%s': %s", path, strerror(errno));
        return rc;
    }
    n = fread(buf, 1, cap, f);
    if (ferror(f))
        ctl_error("cannot read --token-file '%s': %s", path, strerror(errno));
    else if (n == cap)
        ctl_error("--token-file '%s': over %zu bytes", path, cap - 1);
    else
        rc = CTL_EXIT_OK;
    fclose(f);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    if (n == 0 || strlen(buf) != n) {
        ctl_error("--token-file '%s': empty, or holds a NUL byte", path);
        return CTL_EXIT_USAGE;
    }
    return CTL_EXIT_OK;
}

/* Takes the global options out of argv, wherever they are. */
static int ctl_globals(struct ctl *ctl, int *argc, char **argv)
{
    static char token_buf[CTL_TOKEN_FILE_MAX_BYTES + 1];
    const char *timeout = NULL, *token = NULL, *token_file = NULL;
    const struct ctl_opt opts[] = {
        {"--tls", NULL, &ctl->opts.tls},
        {"--ca-file", &ctl->opts.ca_file, NULL},
        {"--host", &ctl->opts.host, NULL},
        {"--port", &ctl->opts.port, NULL},
        {"--token", &token, NULL},
        {"--token-file", &token_file, NULL},
        {"--timeout", &timeout, NULL},
    };
    int i, n = 0, rc;

    for (i = 0; i < *argc; i++) {
        bool matched = false;
        size_t k;

        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[n++] = argv[i++];
            break;
        }
        for (k = 0; k < sizeof(opts) / sizeof(opts[0]) && !matched; k++) {
            rc = ctl_match_opt(NULL, *argc, argv, &i, &opts[k], &matched);
            if (rc != CTL_EXIT_OK)
                return rc;
        }
        if (!matched)
            argv[n++] = argv[i];
    }
    *argc = n;
    if (token != NULL && token_file != NULL)
        return ctl_usage_error(NULL, "--token and --token-file: give one");
    if (ctl->opts.ca_file != NULL && !ctl->opts.tls)
        return ctl_usage_error(NULL, "--ca-file goes with --tls");
    if (token != NULL) {
        fputs("minglectl: warning: --token is visible to other users in the "
              "process list; use MINGLE_TOKEN or --token-file\n", stderr);
        ctl->opts.token = token;
    }
    if (token_file != NULL) {
        rc = ctl_read_token_file(token_file, token_buf, sizeof(token_buf));
        if (rc != CTL_EXIT_OK)
            return rc;
        ctl->opts.token = token_buf;
    }
    if (timeout != NULL) {
        uint64_t s;

        if (ctl_parse_u64(timeout, CTL_MAX_TIMEOUT_S, &s) != 0)
            return ctl_usage_error(NULL, "bad --timeout '%s': expected "
                                   "seconds, 0 for none", timeout);
        ctl->opts.timeout_ms = (int)s * 1000;
    }
    return CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct ctl ctl = {
        .opts = {.host = getenv("MINGLE_HOST"),
                 .port = getenv("MINGLE_PORT"),
                 .token = getenv("MINGLE_TOKEN"),
                 .timeout_ms = CTL_DEFAULT_TIMEOUT_MS},
    };
    const struct ctl_cmd *cmd;
    int used = 0, rc, i;

    argc--;
    argv++;
    rc = ctl_globals(&ctl, &argc, argv);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (ctl.opts.host == NULL || ctl.opts.host[0] == '\0')
        ctl.opts.host = CTL_DEFAULT_HOST;
    if (ctl.opts.port == NULL || ctl.opts.port[0] == '\0')
        ctl.opts.port = CTL_DEFAULT_PORT;

    if (argc == 0)
        return ctl_usage_error(NULL, "no command given");
    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
        strcmp(argv[0], "help") == 0) {
        ctl_help(stdout, NULL);
        return CTL_EXIT_OK;
    }
    if (strcmp(argv[0], "--version") == 0) {
        puts("minglectl " MINGLE_VERSION);
        return CTL_EXIT_OK;
    }
    cmd = ctl_find(argc, argv, &used);
    if (cmd == NULL) {
        /* "minglectl event --help" lists that group's commands. */
        if (ctl_is_group(argv[0])) {
            if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                              strcmp(argv[1], "-h") == 0)) {
                ctl_help(stdout, argv[0]);
                return CTL_EXIT_OK;
            }
            ctl_error("'%s' needs one of:", argv[0]);
            ctl_help(stderr, argv[0]);
            return CTL_EXIT_USAGE;
        }
        return ctl_usage_error(NULL, "unknown command '%s%s%s'", argv[0],
                               argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
    }
    for (i = used; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ctl_cmd_help(cmd);
            return CTL_EXIT_OK;
        }
    }
    rc = cmd->run(&ctl, cmd, argc - used, argv + used);
    ctl_conn_free(ctl.conn);
    return rc;
}
