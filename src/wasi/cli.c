/* wasi:cli (environment, exit, stdin/stdout/stderr, terminal-*) and
 * wasi:logging: an app's output goes to the server log, one line per
 * message, tagged with the app's name and throttled by a token bucket so a
 * chatty app cannot flood the log. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Longest line kept from stdout/stderr before it is cut and logged. */
#define LINE_MAX_SIZE 1024u

bool eos_wasi__rate_take(eos_wasi_app *app, uint64_t now_ns)
{
    pthread_mutex_lock(&app->lock);
    if (now_ns > app->log_last_ns) {
        app->log_tokens += (double)(now_ns - app->log_last_ns) * 1e-9 * app->log_rate;
        if (app->log_tokens > app->log_burst)
            app->log_tokens = app->log_burst;
        app->log_last_ns = now_ns;
    }
    bool ok = app->log_tokens >= 1.0;
    uint64_t dropped = 0;
    if (ok) {
        app->log_tokens -= 1.0;
        dropped = app->log_dropped_pending;
        app->log_dropped_pending = 0;
    } else {
        app->log_dropped++;
        app->log_dropped_pending++;
    }
    pthread_mutex_unlock(&app->lock);
    if (dropped)
        EOS_WARN("app", "[%s] %llu log lines dropped by the rate limit", app->name,
                 (unsigned long long)dropped);
    return ok;
}

void eos_wasi__app_log(eos_wasi_app *app, eos_log_level level, const char *stream,
                       const char *context, const char *msg, size_t msg_size)
{
    if (level < eos_log_get_level() || !eos_wasi__rate_take(app, eos_now_ns()))
        return;
    /* Control characters would let an app forge log lines: show them escaped. */
    char line[LINE_MAX_SIZE + 1];
    size_t k = 0;
    for (size_t i = 0; i < msg_size && k + 4 < sizeof(line); i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c < 0x20 || c == 0x7f)
            k += (size_t)snprintf(line + k, sizeof(line) - k, "\\x%02x", c);
        else
            line[k++] = (char)c;
    }
    line[k] = 0;
    if (context && context[0])
        eos_log(level, "app", "[%s] %s(%s): %s", app->name, stream, context, line);
    else
        eos_log(level, "app", "[%s] %s: %s", app->name, stream, line);
}

/* ---- stdout / stderr as line-buffered log streams ---- */

typedef struct log_stream {
    eos_log_level level;
    const char *name;
    size_t len;
    char buf[LINE_MAX_SIZE];
} log_stream;

static void log_emit(eos_wasi__ctx *ctx, log_stream *ls)
{
    if (ls->len)
        eos_wasi__app_log(ctx->app, ls->level, ls->name, NULL, ls->buf, ls->len);
    ls->len = 0;
}

static int log_space(eos_wasi__ctx *ctx, void *impl, uint64_t *out_space)
{
    *out_space = EOS_WASI_BODY_CHUNK;
    return 0;
}

static int log_write(eos_wasi__ctx *ctx, void *impl, const uint8_t *data, size_t size)
{
    log_stream *ls = impl;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '\n') {
            if (ls->len && ls->buf[ls->len - 1] == '\r')
                ls->len--;
            log_emit(ctx, ls);
        } else {
            if (ls->len == sizeof(ls->buf))
                log_emit(ctx, ls);
            ls->buf[ls->len++] = (char)data[i];
        }
    }
    return 0;
}

static int log_flush(eos_wasi__ctx *ctx, void *impl, bool blocking)
{
    return 0; /* lines go out when complete; a partial one waits for its end */
}

static void log_release(eos_wasi__ctx *ctx, void *impl)
{
    log_emit(ctx, impl);
    eos_free(impl, sizeof(log_stream));
}

static int get_log_stream(eos_cm_call *call, eos_cm_val *results, eos_log_level level,
                          const char *name)
{
    EOS_WASI__ENTER(ctx, call);
    log_stream *ls = eos_calloc(1, sizeof(*ls));
    if (!ls)
        return EOS_ENOMEM;
    ls->level = level;
    ls->name = name;
    eos_wasi__ostream t = {.space = log_space,
                           .write = log_write,
                           .flush = log_flush,
                           .release = log_release,
                           .impl = ls};
    return eos_wasi__ret_handle(&results[0], eos_wasi__ostream_new(ctx, &t));
}

static int get_stdout(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return get_log_stream(call, results, EOS_LOG_INFO, "stdout");
}

static int get_stderr(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return get_log_stream(call, results, EOS_LOG_WARN, "stderr");
}

static int empty_read(eos_wasi__ctx *ctx, void *impl, uint8_t *buf, size_t cap, size_t *out_size)
{
    *out_size = 0;
    return EOS_ECLOSED;
}

static int get_stdin(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__istream t = {.read = empty_read};
    return eos_wasi__ret_handle(&results[0], eos_wasi__istream_new(ctx, &t));
}

static int get_terminal(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__val_option(&results[0], NULL); /* apps have no terminal */
    return 0;
}

/* ---- environment ---- */

static bool env_pair(eos_wasi__ctx *ctx, eos_cm_val *item, const char *k, const char *v)
{
    eos_cm_val *p = eos_wasi__val_new(ctx, 2);
    if (!p || !eos_wasi__val_str(ctx, &p[0], k, strlen(k)) ||
        !eos_wasi__val_str(ctx, &p[1], v, strlen(v)))
        return false;
    item->of.list.items = p;
    item->of.list.len = 2;
    return true;
}

static int get_environment(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi_app *app = ctx->app;
    size_t seed = ctx->no_app_env ? 0 : 2;
    size_t n = seed + app->env_count;
    eos_cm_val *items = eos_wasi__val_new(ctx, n ? n : 1);
    if (!items || (seed && (!env_pair(ctx, &items[0], "APP_NAME", app->name) ||
                            !env_pair(ctx, &items[1], "APP_VERSION", app->version_hex))))
        return EOS_ENOMEM;
    for (size_t i = 0; i < app->env_count; i++)
        if (!env_pair(ctx, &items[seed + i], app->env[i].key, app->env[i].value))
            return EOS_ENOMEM;
    results[0].of.list.items = items;
    results[0].of.list.len = n;
    return 0;
}

/* The call's arguments, argv[0] first; without any, the app's name as
 * argv[0] (programs read their name there). */
static int get_arguments(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    const char *const *argv = ctx->argv;
    size_t argc = ctx->argc;
    const char *name = ctx->app->name;
    if (!argv) {
        argv = &name;
        argc = 1;
    }
    eos_cm_val *items = argc ? eos_wasi__val_new(ctx, argc) : NULL;
    if (argc && !items)
        return EOS_ENOMEM;
    for (size_t i = 0; i < argc; i++)
        if (!eos_wasi__val_str(ctx, &items[i], argv[i], strlen(argv[i])))
            return EOS_ENOMEM;
    results[0].of.list.items = items;
    results[0].of.list.len = argc;
    return 0;
}

static int initial_cwd(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return eos_wasi__ret_opt_str(ctx, &results[0], "/");
}

/* ---- exit ---- */

static int do_exit(eos_wasi__ctx *ctx, unsigned code)
{
    snprintf(ctx->out->reason, sizeof(ctx->out->reason), "the app exited with status %u", code);
    ctx->out->exited = true;
    ctx->out->exit_status = (uint8_t)code;
    return EOS_TRAP_EXIT;
}

static int cli_exit(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return do_exit(ctx, args[0].of.var.index ? 1u : 0u);
}

static int cli_exit_code(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return do_exit(ctx, (unsigned)args[0].of.u);
}

/* ---- wasi:logging ---- */

static int logging_log(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    static const eos_log_level levels[] = {EOS_LOG_DEBUG, EOS_LOG_DEBUG, EOS_LOG_INFO,
                                           EOS_LOG_WARN,  EOS_LOG_ERROR, EOS_LOG_ERROR};
    uint32_t lv = args[0].of.var.index;
    char context[64];
    size_t cn = args[1].of.str.len < sizeof(context) - 1 ? args[1].of.str.len : sizeof(context) - 1;
    for (size_t i = 0; i < cn; i++) {
        char c = args[1].of.str.ptr[i];
        context[i] = (c < 0x20 || c == 0x7f) ? '?' : c;
    }
    context[cn] = 0;
    eos_wasi__app_log(ctx->app, levels[lv < 6 ? lv : 5], "log", context, args[2].of.str.ptr,
                      args[2].of.str.len);
    return 0;
}

static const eos_cm_host_func env_funcs[] = {
    {"get-environment", "func() -> list<tuple<string, string>>", get_environment},
    {"get-arguments", "func() -> list<string>", get_arguments},
    {"initial-cwd", "func() -> option<string>", initial_cwd},
};
static const eos_cm_host_func exit_funcs[] = {
    {"exit", "func(status: result)", cli_exit},
    {"exit-with-code", "func(status-code: u8)", cli_exit_code},
};
static const eos_cm_host_func stdin_funcs[] = {{"get-stdin", "func() -> input-stream", get_stdin}};
static const eos_cm_host_func stdout_funcs[] = {
    {"get-stdout", "func() -> output-stream", get_stdout}};
static const eos_cm_host_func stderr_funcs[] = {
    {"get-stderr", "func() -> output-stream", get_stderr}};
static const eos_cm_host_func tstdin_funcs[] = {
    {"get-terminal-stdin", "func() -> option<terminal-input>", get_terminal}};
static const eos_cm_host_func tstdout_funcs[] = {
    {"get-terminal-stdout", "func() -> option<terminal-output>", get_terminal}};
static const eos_cm_host_func tstderr_funcs[] = {
    {"get-terminal-stderr", "func() -> option<terminal-output>", get_terminal}};
static const eos_cm_host_func logging_funcs[] = {
    {"log", "func(level: level, context: string, message: string)", logging_log}};

static const char in_types[] = "resource input-stream;";
static const char out_types[] = "resource output-stream;";
static const char tin_types[] = "resource terminal-input;";
static const char tout_types[] = "resource terminal-output;";
static const char logging_types[] = "enum level { trace, debug, info, warn, error, critical }";

const eos_wasi__iface eos_wasi__misc_ifaces[] = {
    EOS_WASI__IFACE("wasi:cli/environment", NULL, env_funcs),
    EOS_WASI__IFACE("wasi:cli/exit", NULL, exit_funcs),
    EOS_WASI__IFACE("wasi:cli/stdin", in_types, stdin_funcs),
    EOS_WASI__IFACE("wasi:cli/stdout", out_types, stdout_funcs),
    EOS_WASI__IFACE("wasi:cli/stderr", out_types, stderr_funcs),
    {.name = "wasi:cli/terminal-input", .types = tin_types},
    {.name = "wasi:cli/terminal-output", .types = tout_types},
    EOS_WASI__IFACE("wasi:cli/terminal-stdin", tin_types, tstdin_funcs),
    EOS_WASI__IFACE("wasi:cli/terminal-stdout", tout_types, tstdout_funcs),
    EOS_WASI__IFACE("wasi:cli/terminal-stderr", tout_types, tstderr_funcs),
    EOS_WASI__IFACE("wasi:logging/logging", logging_types, logging_funcs),
};
const size_t eos_wasi__misc_iface_count = EOS_ARRAY_LEN(eos_wasi__misc_ifaces);
