/* main.c -- mingled's command line.
 *
 * Only option parsing lives here; each mode is a library call: batch_run()
 * with --batch, server_run() otherwise.  Usage
 * errors exit with status 2, like bad input, so scripts can tell "you
 * asked wrongly" (2) from "something broke" (1).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "cfg_error.h"
#include "daemon_config.h"
#include "mingle_version.h"
#include "sched.h"
#include "server.h"

#define EXIT_USAGE 2
#define MAX_TIME_LIMIT_S 86400.0 /* a day: beyond that, a typo */
#define MAX_EFFORT 100000        /* about three hours at 150 people */

enum opt_id {
    OPT_BATCH = 'b',
    OPT_FORMAT = 'f',
    OPT_HELP = 'h',
    OPT_SEED = 's',
    OPT_TIME_LIMIT = 't',
    OPT_VERSION = 'V',
    OPT_MAX_ATTENDEES = 256, /* long options only from here on */
    OPT_CONFIG,
    OPT_LISTEN,
    OPT_PORT,
    OPT_DATA_DIR,
    OPT_PRINT_CONFIG,
    OPT_HISTORY,
    OPT_THREADS,
    OPT_EFFORT,
    OPT_EXCEL,
};

static const struct option long_opts[] = {
    {"batch", required_argument, NULL, OPT_BATCH},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"time-limit", required_argument, NULL, OPT_TIME_LIMIT},
    {"max-attendees", required_argument, NULL, OPT_MAX_ATTENDEES},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"effort", required_argument, NULL, OPT_EFFORT},
    {"excel", no_argument, NULL, OPT_EXCEL},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"port", required_argument, NULL, OPT_PORT},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Daemon-mode settings given on the command line; they override the
 * config file's. */
struct daemon_opts {
    const char *config_path;
    char *listen[CFG_DAEMON_MAX_LISTEN];
    size_t n_listen;
    bool has_port;
    uint16_t port;
    const char *data_dir;
    bool print_config;
};

struct main_opts {
    struct batch_opts batch; /* batch.path NULL: not batch mode */
    bool batch_only_given;   /* an option that only --batch uses */
    bool excel;              /* --excel: CSV the way Excel reads it */
    struct daemon_opts daemon;
};

static void usage(FILE *f)
{
    fputs("usage: mingled --batch FILE [--format text|json|csv [--excel]]\n"
          "               [--seed N]\n"
          "               [--time-limit SECONDS] [--effort X] [--threads N]\n"
          "               [--max-attendees N] [--history DATA_DIR]\n"
          "       mingled [--config FILE] [--listen ADDR]... [--port N]\n"
          "               [--data-dir DIR] [--print-config]\n"
          "       mingled --help | --version\n", f);
}

static void help(void)
{
    usage(stdout);
    fputs("\n"
          "Seats the attendees of a business meetup at tables for several\n"
          "rounds: new faces every round, and tables with something to talk\n"
          "about.\n"
          "\n"
          "  -b, --batch FILE        plan the whole event in FILE (YAML) and\n"
          "                          print the schedule\n"
          "  -f, --format FORMAT     text (default), json or csv\n"
          "      --excel             with --format csv: a UTF-8 byte order\n"
          "                          mark and CRLF line ends, for Excel\n"
          "  -s, --seed N            seed for the search (overrides the\n"
          "                          file's)\n"
          "  -t, --time-limit SECS   finish within SECS seconds, output\n"
          "                          included (default: search for 0.15 s x\n"
          "                          sqrt(attendees), 0.5 s to 8 s); the\n"
          "                          search stops earlier once it converges\n"
          "      --effort X          a fixed work budget (X = 1 is about 0.1 s\n"
          "                          at 150 people): the same seed, effort and\n"
          "                          threads give the same schedule on any\n"
          "                          machine, unless the time limit cuts in\n"
          "      --threads N         search threads, 1-8 (default: the CPUs)\n"
          "      --max-attendees N   refuse event files with more attendees\n"
          "      --history DATA_DIR  count pairs who met at the events of a\n"
          "                          daemon's data dir as met (read-only)\n"
          "\n"
          "Without --batch, mingled runs as a daemon that minglectl drives\n"
          "over TCP (default 127.0.0.1:7411):\n"
          "\n"
          "      --config FILE       daemon config (YAML); SIGHUP reloads it\n"
          "      --listen ADDR       listen on ADDR (repeatable; overrides\n"
          "                          the config's listen)\n"
          "      --port N            TCP port; 0 picks a free one and logs it\n"
          "      --data-dir DIR      where the state is kept\n"
          "      --print-config      print the effective config and exit\n"
          "\n"
          "An address that is not loopback needs an auth_token and TLS\n"
          "(tls_cert_file, tls_key_file) in the config, or\n"
          "plaintext_off_loopback: true; README.md lists every key.\n"
          "\n"
          "  -h, --help              show this help\n"
          "  -V, --version           show the version\n"
          "\n"
          "Exit status: 0 success, 1 internal error, 2 bad input or usage.\n",
          stdout);
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("mingled: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage(stderr);
    return EXIT_USAGE;
}

/* Names the option getopt_long() just refused; `token` is the argument
 * it was reading.  A short option may sit in a bundle like "-xV", so it is
 * named by optopt; a long one by the token itself. */
static const char *bad_option(const char *token, char *buf)
{
    if (strncmp(token, "--", 2) == 0)
        return token;
    buf[0] = '-';
    buf[1] = (char)optopt;
    buf[2] = '\0';
    return buf;
}

/* Unsigned decimal in [0, max]; "-1" and "1x" are refused, unlike strtoull
 * alone. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, uint32_t *ms)
{
    char *end;

    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0 ||
        v > MAX_TIME_LIMIT_S)
        return -EINVAL;
    *ms = v * 1000.0 < 1.0 ? 1u : (uint32_t)(v * 1000.0);
    return 0;
}

static int parse_effort(const char *s, double *effort)
{
    char *end;

    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > MAX_EFFORT)
        return -EINVAL;
    *effort = v;
    return 0;
}

/* Fills `o` from argv.  Returns -1 to go on, otherwise the exit status
 * (0 after --help or --version). */
static int parse_args(int argc, char **argv, struct main_opts *o)
{
    int c;
    uint64_t v;
    char opt[3];

    opterr = 0;
    for (;;) {
        /* glibc leaves optind on an argument until it is used up. */
        const char *token = optind < argc ? argv[optind] : "";
        c = getopt_long(argc, argv, ":b:f:s:t:hV", long_opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case OPT_BATCH:
            o->batch.path = optarg;
            break;
        case OPT_FORMAT:
            o->batch_only_given = true;
            if (out_parse_format(optarg, &o->batch.format) < 0)
                return usage_error("unknown format \"%s\" (text, json, csv)",
                                   optarg);
            break;
        case OPT_SEED:
            o->batch_only_given = true;
            if (parse_u64(optarg, UINT64_MAX, &o->batch.seed) < 0)
                return usage_error("bad seed \"%s\": want a number >= 0",
                                   optarg);
            o->batch.has_seed = true;
            break;
        case OPT_TIME_LIMIT:
            o->batch_only_given = true;
            if (parse_seconds(optarg, &o->batch.time_limit_ms) < 0)
                return usage_error("bad time limit \"%s\": want seconds, "
                                   "more than 0, at most 86400", optarg);
            break;
        case OPT_EFFORT:
            o->batch_only_given = true;
            if (parse_effort(optarg, &o->batch.effort) < 0)
                return usage_error("bad effort \"%s\": want a number above "
                                   "0, at most %d", optarg, MAX_EFFORT);
            break;
        case OPT_THREADS:
            o->batch_only_given = true;
            if (parse_u64(optarg, SCHED_THREADS_MAX, &v) < 0 || v == 0)
                return usage_error("bad thread count \"%s\": want 1..%d",
                                   optarg, SCHED_THREADS_MAX);
            o->batch.threads = (uint32_t)v;
            break;
        case OPT_MAX_ATTENDEES:
            o->batch_only_given = true;
            if (parse_u64(optarg, UINT32_MAX, &v) < 0 || v == 0)
                return usage_error("bad attendee limit \"%s\": want a "
                                   "number >= 1", optarg);
            o->batch.max_attendees = (uint32_t)v;
            break;
        case OPT_EXCEL:
            o->batch_only_given = true;
            o->excel = true;
            break;
        case OPT_HISTORY:
            o->batch.history_dir = optarg;
            break;
        case OPT_CONFIG:
            o->daemon.config_path = optarg;
            break;
        case OPT_LISTEN:
            if (o->daemon.n_listen == CFG_DAEMON_MAX_LISTEN)
                return usage_error("at most %d --listen addresses",
                                   CFG_DAEMON_MAX_LISTEN);
            o->daemon.listen[o->daemon.n_listen++] = optarg;
            break;
        case OPT_PORT:
            if (parse_u64(optarg, UINT16_MAX, &v) < 0)
                return usage_error("bad port \"%s\": want 0..65535", optarg);
            o->daemon.port = (uint16_t)v;
            o->daemon.has_port = true;
            break;
        case OPT_DATA_DIR:
            o->daemon.data_dir = optarg;
            break;
        case OPT_PRINT_CONFIG:
            o->daemon.print_config = true;
            break;
        case OPT_HELP:
            help();
            return EXIT_SUCCESS;
        case OPT_VERSION:
            printf("mingled %s\n", MINGLE_VERSION);
            return EXIT_SUCCESS;
        case ':':
            return usage_error("option %s needs a value",
                               bad_option(token, opt));
        default:
            return usage_error("unrecognised option %s",
                               bad_option(token, opt));
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    return -1;
}

/* Replaces the config's values by those given on the command line. */
static int apply_overrides(struct cfg_daemon *c, const struct daemon_opts *d)
{
    if (d->n_listen > 0) {
        char **listen = calloc(d->n_listen, sizeof(*listen));
        size_t i;

        if (listen == NULL)
            return -ENOMEM;
        for (i = 0; i < d->n_listen; i++) {
            listen[i] = strdup(d->listen[i]);
            if (listen[i] == NULL) {
                while (i > 0)
                    free(listen[--i]);
                free(listen);
                return -ENOMEM;
            }
        }
        for (i = 0; i < c->n_listen; i++)
            free(c->listen[i]);
        free(c->listen);
        c->listen = listen;
        c->n_listen = d->n_listen;
    }
    if (d->has_port)
        c->port = d->port;
    if (d->data_dir) {
        char *dir = strdup(d->data_dir);

        if (dir == NULL)
            return -ENOMEM;
        free(c->data_dir);
        c->data_dir = dir;
    }
    return 0;
}

/* Daemon mode: the config file, then the command line, then either
 * --print-config or the server until SIGINT/SIGTERM. */
static int run_daemon(const struct daemon_opts *d)
{
    struct cfg_daemon cfg = {0};
    struct cfg_error err;
    char msg[CFG_ERROR_FILE_BYTES + CFG_ERROR_MSG_BYTES + 16];
    int status = EXIT_FAILURE;
    int rc;

    rc = d->config_path ? cfg_daemon_load(d->config_path, &cfg, &err)
                        : cfg_daemon_defaults(&cfg);
    if (rc < 0) {
        if (d->config_path)
            fprintf(stderr, "mingled: %s\n",
                    cfg_error_format(&err, msg, sizeof(msg)));
        else
            fprintf(stderr, "mingled: %s\n", strerror(-rc));
        status = rc == -ENOMEM ? EXIT_FAILURE : EXIT_USAGE;
        goto out;
    }
    if (apply_overrides(&cfg, d) < 0) {
        fprintf(stderr, "mingled: %s\n", strerror(ENOMEM));
        goto out;
    }
    if (cfg_daemon_check(&cfg, &err) < 0) {
        fprintf(stderr, "mingled: %s\n",
                cfg_error_format(&err, msg, sizeof(msg)));
        status = EXIT_USAGE;
        goto out;
    }
    if (d->print_config) {
        status = cfg_daemon_print(stdout, &cfg) < 0 || fflush(stdout) != 0
                     ? EXIT_FAILURE : EXIT_SUCCESS;
        goto out;
    }
    status = server_run(&cfg, d->config_path) < 0 ? EXIT_FAILURE
                                                  : EXIT_SUCCESS;
out:
    cfg_daemon_free(&cfg);
    return status;
}

int main(int argc, char **argv)
{
    struct main_opts o = {.batch = {.format = OUT_TEXT}};

    int status = parse_args(argc, argv, &o);
    if (status >= 0)
        return status;
    /* A forgotten --batch must not start a daemon that quietly ignores
     * the options meant for the batch run. */
    if (!o.batch.path && o.batch_only_given)
        return usage_error("--format, --excel, --seed, --time-limit, "
                           "--effort, --threads and --max-attendees need "
                           "--batch");
    if (!o.batch.path && o.batch.history_dir)
        return usage_error("--history goes with --batch");
    if (!o.batch.path)
        return run_daemon(&o.daemon);
    if (o.daemon.config_path || o.daemon.n_listen > 0 || o.daemon.has_port ||
        o.daemon.data_dir || o.daemon.print_config)
        return usage_error("daemon options do not go with --batch");
    if (o.excel && o.batch.format != OUT_CSV)
        return usage_error("--excel goes with --format csv");
    if (o.excel)
        o.batch.format = OUT_CSV_EXCEL;
    o.batch.progress = isatty(STDERR_FILENO);
    return batch_run(&o.batch, stdout, stderr);
}
