/* The egress policy of an app: allow-list rules given at load, the TLS trust
 * store built once from the operator's CA bundle, the concurrency limit and
 * the counters. The call machinery itself is in outgoing.c. */
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/x509_vfy.h>

#include "outgoing.h"

const uint8_t eos_wasi__error_code_has_payload[39] = {
    [17] = 1, [21] = 1, [22] = 1, [23] = 1, [26] = 1, [28] = 1,
    [29] = 1, [31] = 1, [32] = 1, [38] = 1,
};

int eos_wasi__error_code_val(eos_wasi__ctx *ctx, eos_cm_val *v, uint32_t index)
{
    v->of.var.index = index;
    v->of.var.payload = NULL;
    if (index < 39 && eos_wasi__error_code_has_payload[index]) {
        /* Every case this host produces with a payload carries an option,
         * given as none. */
        eos_cm_val *p = eos_wasi__val_new(ctx, 1);
        if (!p)
            return EOS_ENOMEM;
        eos_wasi__val_option(p, NULL);
        v->of.var.payload = p;
    }
    return 0;
}

/* Parses `scheme://host[:port]` into r (host lower-cased, allocated). */
static int rule_parse(const char *s, eos_wasi__orule *r, eos_diag *diag)
{
    memset(r, 0, sizeof(*r));
    const char *h;
    if (strncasecmp(s, "https://", 8) == 0) {
        r->https = true;
        h = s + 8;
    } else if (strncasecmp(s, "http://", 7) == 0) {
        h = s + 7;
    } else {
        return eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0,
                            "'%s': the rule must start with https:// or http://", s);
    }
    const char *end = h + strlen(h);
    if (end > h && end[-1] == '/')
        end--;
    const char *colon = NULL;
    for (const char *p = h; p < end; p++)
        if (*p == ':')
            colon = p;
    const char *hend = colon ? colon : end;
    size_t hlen = (size_t)(hend - h);
    if (hlen == 0 || hlen > 253)
        return eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0, "'%s': no host", s);
    if (hlen >= 2 && h[0] == '*' && h[1] == '.') {
        r->wildcard = true;
        h += 2;
        hlen -= 2;
        if (!hlen)
            return eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0, "'%s': no host", s);
    }
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!(isalnum(c) || c == '-' || c == '.' || c == '_'))
            return eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0,
                                "'%s': the host may hold letters, digits, '-', '.' only "
                                "(and a leading '*.')", s);
    }
    r->port = r->https ? 443 : 80;
    if (colon) {
        const char *p = colon + 1;
        if (end - p == 1 && *p == '*') {
            r->port = -1;
        } else {
            long v = 0;
            if (p == end)
                return eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0, "'%s': empty port", s);
            for (; p < end; p++) {
                if (!isdigit((unsigned char)*p) || (v = v * 10 + (*p - '0')) > 65535)
                    return eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0, "'%s': bad port",
                                        s);
            }
            if (v == 0)
                return eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0, "'%s': bad port", s);
            r->port = (int)v;
        }
    }
    r->host = eos_malloc(hlen + 1);
    r->text = eos_strdup(s);
    if (!r->host || !r->text) {
        eos_free(r->host, hlen + 1);
        eos_free(r->text, r->text ? strlen(r->text) + 1 : 0);
        return EOS_ENOMEM;
    }
    for (size_t i = 0; i < hlen; i++)
        r->host[i] = (char)tolower((unsigned char)h[i]);
    r->host[hlen] = 0;
    return 0;
}

static void rule_free(eos_wasi__orule *r)
{
    eos_free(r->host, r->host ? strlen(r->host) + 1 : 0);
    eos_free(r->text, r->text ? strlen(r->text) + 1 : 0);
}

int eos_wasi_outbound_rule_check(const char *rule, eos_diag *diag)
{
    eos_wasi__orule r;
    if (!rule)
        return eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0, "no rule");
    int rc = rule_parse(rule, &r, diag);
    if (!rc)
        rule_free(&r);
    return rc;
}

static bool host_match(const eos_wasi__orule *r, const char *host)
{
    if (!r->wildcard)
        return strcmp(r->host, host) == 0;
    size_t hl = strlen(host), rl = strlen(r->host);
    return hl > rl + 1 && host[hl - rl - 1] == '.' && strcmp(host + hl - rl, r->host) == 0;
}

const char *eos_wasi__out_allowed(const eos_wasi__outapp *oa, bool https, const char *host,
                                  int port, char *why, size_t why_size)
{
    const eos_wasi__orule *near = NULL;
    for (size_t i = 0; oa && i < oa->rule_count; i++) {
        const eos_wasi__orule *r = &oa->rules[i];
        if (!host_match(r, host))
            continue;
        if (r->https == https && (r->port < 0 || r->port == port))
            return r->text;
        if (!near)
            near = r;
    }
    if (near)
        snprintf(why, why_size, "rule '%s' allows only %s on %s", near->text,
                 near->https ? "https" : "plain http",
                 near->port < 0 ? "any port" : "its port");
    else if (!oa || !oa->rule_count)
        snprintf(why, why_size, "the app has no outbound rules");
    else
        snprintf(why, why_size, "no rule of %zu matches the host", oa->rule_count);
    return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int eos_wasi__out_app_init(eos_wasi_app *app, const eos_wasi_outbound *cfg, eos_diag *diag)
{
    pthread_once(&curl_once, curl_init_once);
    eos_wasi__outapp *oa = eos_calloc(1, sizeof(*oa));
    if (!oa)
        return EOS_ENOMEM;
    app->outbound = oa;
    oa->max_response = cfg->max_response_bytes ? cfg->max_response_bytes : (256ull << 20);
    oa->max_concurrent = cfg->max_concurrent ? cfg->max_concurrent : 32;
    oa->connect_ns = cfg->connect_timeout_ns ? cfg->connect_timeout_ns : 10000000000ull;
    oa->first_byte_ns = cfg->first_byte_timeout_ns ? cfg->first_byte_timeout_ns : 30000000000ull;
    oa->between_ns =
        cfg->between_bytes_timeout_ns ? cfg->between_bytes_timeout_ns : 30000000000ull;
    if (cfg->allow_count) {
        oa->rules = eos_calloc(cfg->allow_count, sizeof(*oa->rules));
        if (!oa->rules)
            return EOS_ENOMEM;
        for (size_t i = 0; i < cfg->allow_count; i++) {
            int rc = rule_parse(cfg->allow[i] ? cfg->allow[i] : "", &oa->rules[i], diag);
            if (rc)
                return rc;
            oa->rule_count++;
        }
    }
    /* The trust store is built once and shared (reference-counted by
     * OpenSSL) by every TLS context of the app's calls; without rules no
     * call is ever made. */
    if (!oa->rule_count)
        return 0;
    if (!(oa->store = X509_STORE_new()))
        return EOS_ENOMEM;
    int ok = cfg->ca_file ? X509_STORE_load_file(oa->store, cfg->ca_file)
                          : X509_STORE_set_default_paths(oa->store);
    if (ok != 1)
        return eos_diag_set(diag, EOS_EINVAL, "outbound CA", 0,
                            "the CA bundle %s could not be loaded",
                            cfg->ca_file ? cfg->ca_file : "(system default)");
    return 0;
}

void eos_wasi__out_app_free(eos_wasi_app *app)
{
    eos_wasi__outapp *oa = app->outbound;
    if (!oa)
        return;
    for (size_t i = 0; i < oa->rule_count; i++)
        rule_free(&oa->rules[i]);
    eos_free(oa->rules, oa->rules ? sizeof(*oa->rules) * oa->rule_count : 0);
    X509_STORE_free(oa->store);
    eos_free(oa, sizeof(*oa));
    app->outbound = NULL;
}

void eos_wasi_app_outbound_stats(const eos_wasi_app *app, eos_wasi_outbound_stats *out)
{
    memset(out, 0, sizeof(*out));
    eos_wasi__outapp *oa = app ? app->outbound : NULL;
    if (!oa)
        return;
    out->calls = atomic_load(&oa->calls);
    out->denied = atomic_load(&oa->denied);
    out->errors = atomic_load(&oa->errors);
    out->bytes_out = atomic_load(&oa->bytes_out);
    out->bytes_in = atomic_load(&oa->bytes_in);
}
