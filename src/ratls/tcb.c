/* Intel TCB evaluation of a DCAP quote against the collateral of the PCS:
 * the TCB info (platform levels per FMSPC, and for TDX the TDX module
 * identities) and the QE identity, each a JSON document signed by Intel's
 * TCB signing key. The signature covers the exact bytes of the "tcbInfo" or
 * "enclaveIdentity" member, so those are located in the text, not rebuilt. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <yajl/yajl_tree.h>

#include "internal.h"

#define MAX_DOC    (1u << 20)
#define MAX_LEVELS 256
#define MAX_MODULE 16

/* One TCB level: the SVNs a platform must reach for this status. */
typedef struct level {
    uint16_t sgx[16], tdx[16], pcesvn, isvsvn;
    int has_tdx;
    eos_ratls_tcb_status status;
    char date[24];
    char advisories[160];
} level;

typedef struct module_id {
    unsigned major; /* TDX_<major> */
    uint8_t mrsigner[48], attributes[8], mask[8];
    level *levels;
    size_t level_count;
} module_id;

typedef struct intel_doc {
    int type; /* 1 TCB info, 2 enclave identity */
    char id[16];
    int version;
    int64_t issue, next;
    uint32_t eval_number;
    uint8_t fmspc[6], pceid[2];
    int has_fmspc;
    /* enclave identity; hex in the document is the field's bytes in order */
    uint8_t miscselect[4], miscselect_mask[4];
    uint8_t attributes[16], attributes_mask[16], mrsigner[32];
    uint16_t isvprodid;
    /* TDX module (tcbInfo v3) */
    int has_module;
    uint8_t module_mrsigner[48], module_attributes[8], module_mask[8];
    module_id modules[MAX_MODULE];
    size_t module_count;
    level *levels;
    size_t level_count;
    const char *body; /* the signed member's text, into the document */
    size_t body_size;
    uint8_t sig[64];
    int has_sig;
} intel_doc;

const char *eos_ratls_tcb_status_name(eos_ratls_tcb_status s)
{
    switch (s) {
#define EOS__RATLS_TCB_CASE(name, str)                                                             \
    case EOS_RATLS_TCB_##name:                                                                     \
        return str;
        EOS_RATLS_TCB_MAP(EOS__RATLS_TCB_CASE)
#undef EOS__RATLS_TCB_CASE
    }
    return "Unknown";
}

int eos_ratls_tcb_status_parse(const char *name, eos_ratls_tcb_status *out)
{
#define EOS__RATLS_TCB_PARSE(nm, str)                                                              \
    if (strcasecmp(name, str) == 0) {                                                              \
        *out = EOS_RATLS_TCB_##nm;                                                                 \
        return 0;                                                                                  \
    }
    EOS_RATLS_TCB_MAP(EOS__RATLS_TCB_PARSE)
#undef EOS__RATLS_TCB_PARSE
    return EOS_EINVAL;
}

static int bad(eos_diag *d, const char *what)
{
    return eos_diag_set(d, EOS_EMALFORMED, "collateral", -1, "%s", what);
}

static void doc_free(intel_doc *doc)
{
    eos_free(doc->levels, doc->level_count * sizeof *doc->levels);
    for (size_t i = 0; i < doc->module_count; i++)
        eos_free(doc->modules[i].levels, doc->modules[i].level_count * sizeof(level));
    memset(doc, 0, sizeof *doc);
}

/* "2019-09-05T07:47:07Z" (fractions of a second allowed) to unix time. */
static int parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    int n = 0;
    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    const char *p = s + n;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

static int hex_field(yajl_val v, uint8_t *out, size_t size)
{
    const char *s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
    if (!s || strlen(s) != 2 * size)
        return -1;
    return eos_hex_decode(s, out, size) == 0 ? 0 : -1;
}

static int uint_field(yajl_val v, uint64_t max, uint64_t *out)
{
    if (!v || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 ||
        (uint64_t)YAJL_GET_INTEGER(v) > max)
        return -1;
    *out = (uint64_t)YAJL_GET_INTEGER(v);
    return 0;
}

static yajl_val member(yajl_val obj, const char *key)
{
    if (!obj || !YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0)
            return obj->u.object.values[i];
    return NULL;
}

/* An array of 16 {"svn":N} objects (tcbInfo v3). */
static int svn_array(yajl_val a, uint16_t out[16])
{
    uint64_t v;
    if (!a || !YAJL_IS_ARRAY(a) || a->u.array.len != 16)
        return -1;
    for (size_t i = 0; i < 16; i++) {
        if (uint_field(member(a->u.array.values[i], "svn"), 0xFFFF, &v) != 0)
            return -1;
        out[i] = (uint16_t)v;
    }
    return 0;
}

static int parse_level(yajl_val lv, int type, level *out)
{
    yajl_val tcb = member(lv, "tcb");
    yajl_val st = member(lv, "tcbStatus");
    yajl_val date = member(lv, "tcbDate");
    yajl_val adv = member(lv, "advisoryIDs");
    uint64_t v;
    memset(out, 0, sizeof *out);
    if (!tcb || !YAJL_IS_OBJECT(tcb) || !st || !YAJL_IS_STRING(st) ||
        eos_ratls_tcb_status_parse(YAJL_GET_STRING(st), &out->status) != 0 ||
        out->status == EOS_RATLS_TCB_UNKNOWN)
        return -1;
    if (date && YAJL_IS_STRING(date))
        snprintf(out->date, sizeof out->date, "%s", YAJL_GET_STRING(date));
    if (adv && YAJL_IS_ARRAY(adv)) {
        size_t n = 0;
        for (size_t i = 0; i < adv->u.array.len; i++) {
            yajl_val a = adv->u.array.values[i];
            if (!YAJL_IS_STRING(a))
                return -1;
            int w = snprintf(out->advisories + n, sizeof out->advisories - n, "%s%s",
                             n ? "," : "", YAJL_GET_STRING(a));
            if (w < 0 || (size_t)w >= sizeof out->advisories - n) {
                /* Long lists are cut; the status, not the list, decides. */
                out->advisories[sizeof out->advisories - 1] = '\0';
                break;
            }
            n += (size_t)w;
        }
    }
    if (type == 2 || member(tcb, "isvsvn")) {
        if (uint_field(member(tcb, "isvsvn"), 0xFFFF, &v) != 0)
            return -1;
        out->isvsvn = (uint16_t)v;
        return 0;
    }
    if (uint_field(member(tcb, "pcesvn"), 0xFFFF, &v) != 0)
        return -1;
    out->pcesvn = (uint16_t)v;
    if (member(tcb, "sgxtcbcomponents")) {
        if (svn_array(member(tcb, "sgxtcbcomponents"), out->sgx) != 0)
            return -1;
        if (member(tcb, "tdxtcbcomponents")) {
            if (svn_array(member(tcb, "tdxtcbcomponents"), out->tdx) != 0)
                return -1;
            out->has_tdx = 1;
        }
        return 0;
    }
    for (int i = 0; i < 16; i++) {
        char key[20];
        snprintf(key, sizeof key, "sgxtcbcomp%02dsvn", i + 1);
        if (uint_field(member(tcb, key), 0xFF, &v) != 0)
            return -1;
        out->sgx[i] = (uint16_t)v;
    }
    return 0;
}

static int parse_levels(yajl_val a, int type, level **out, size_t *out_count)
{
    if (!a || !YAJL_IS_ARRAY(a) || a->u.array.len == 0 || a->u.array.len > MAX_LEVELS)
        return EOS_EMALFORMED;
    level *lv = eos_calloc(a->u.array.len, sizeof *lv);
    if (!lv)
        return EOS_ENOMEM;
    for (size_t i = 0; i < a->u.array.len; i++)
        if (parse_level(a->u.array.values[i], type, &lv[i]) != 0) {
            eos_free(lv, a->u.array.len * sizeof *lv);
            return EOS_EMALFORMED;
        }
    *out = lv;
    *out_count = a->u.array.len;
    return 0;
}

/* The text of the top-level member key of a JSON object already known to be
 * valid: strings are skipped with their escapes, nesting is counted. */
static int raw_member(const char *s, size_t n, const char *key, const char **out, size_t *out_size)
{
    size_t i = 0, klen = strlen(key);
    int depth = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            size_t start = ++i;
            while (i < n && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
            if (i >= n)
                return -1;
            size_t end = i++;
            if (depth != 1 || end - start != klen || memcmp(s + start, key, klen) != 0)
                continue;
            while (i < n && (isspace((unsigned char)s[i]) || s[i] == ':'))
                i++;
            size_t vstart = i;
            int d = 0;
            while (i < n) {
                c = s[i];
                if (c == '"') {
                    for (i++; i < n && s[i] != '"'; i += s[i] == '\\' ? 2 : 1)
                        ;
                } else if (c == '{' || c == '[') {
                    d++;
                } else if (c == '}' || c == ']') {
                    if (d == 0)
                        break;
                    if (--d == 0) {
                        i++;
                        break;
                    }
                } else if (c == ',' && d == 0) {
                    break;
                }
                i++;
            }
            while (i > vstart && isspace((unsigned char)s[i - 1]))
                i--;
            *out = s + vstart;
            *out_size = i - vstart;
            return 0;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        i++;
    }
    return -1;
}

static int parse_modules(yajl_val a, intel_doc *doc)
{
    if (!YAJL_IS_ARRAY(a) || a->u.array.len > MAX_MODULE)
        return EOS_EMALFORMED;
    for (size_t i = 0; i < a->u.array.len; i++) {
        yajl_val m = a->u.array.values[i];
        module_id *mi = &doc->modules[doc->module_count];
        yajl_val id = member(m, "id");
        unsigned major;
        int rc;
        if (!id || !YAJL_IS_STRING(id) || sscanf(YAJL_GET_STRING(id), "TDX_%2x", &major) != 1 ||
            hex_field(member(m, "mrsigner"), mi->mrsigner, 48) != 0 ||
            hex_field(member(m, "attributes"), mi->attributes, 8) != 0 ||
            hex_field(member(m, "attributesMask"), mi->mask, 8) != 0)
            return EOS_EMALFORMED;
        mi->major = major;
        if ((rc = parse_levels(member(m, "tcbLevels"), 2, &mi->levels, &mi->level_count)) != 0)
            return rc;
        doc->module_count++;
    }
    return 0;
}

/* Parses a TCB info or enclave identity document into doc (levels owned by
 * doc; the body pointer borrows text). */
static int parse_doc(const char *text, size_t size, intel_doc *doc, eos_diag *d)
{
    char err[128] = "";
    int rc = 0;
    uint64_t v;
    memset(doc, 0, sizeof *doc);
    if (size > MAX_DOC)
        return eos_diag_set(d, EOS_ETOOBIG, "collateral", -1,
                            "collateral document is larger than %u bytes", MAX_DOC);
    char *copy = eos_malloc(size + 1);
    if (!copy)
        return EOS_ENOMEM;
    memcpy(copy, text, size);
    copy[size] = '\0';
    yajl_val root = strlen(copy) == size ? yajl_tree_parse(copy, err, sizeof err) : NULL;
    eos_free(copy, size + 1);
    yajl_val body = NULL;
    if (!root || !YAJL_IS_OBJECT(root)) {
        rc = bad(d, "collateral is not a JSON object (truncated or not JSON)");
        goto out;
    }
    if ((body = member(root, "tcbInfo")) != NULL) {
        doc->type = 1;
        rc = raw_member(text, size, "tcbInfo", &doc->body, &doc->body_size);
    } else if ((body = member(root, "enclaveIdentity")) != NULL ||
               (body = member(root, "qeIdentity")) != NULL) {
        doc->type = 2;
        rc = raw_member(text, size, member(root, "enclaveIdentity") ? "enclaveIdentity" : "qeIdentity",
                        &doc->body, &doc->body_size);
    }
    if (!body || !YAJL_IS_OBJECT(body) || rc != 0) {
        rc = bad(d, "collateral holds neither \"tcbInfo\" nor \"enclaveIdentity\"");
        goto out;
    }
    yajl_val sig = member(root, "signature");
    if (sig && hex_field(sig, doc->sig, 64) == 0)
        doc->has_sig = 1;
    else if (sig) {
        rc = bad(d, "the collateral's signature is not 64 bytes of hex");
        goto out;
    }
    yajl_val id = member(body, "id");
    if (id && YAJL_IS_STRING(id))
        snprintf(doc->id, sizeof doc->id, "%s", YAJL_GET_STRING(id));
    yajl_val issue = member(body, "issueDate"), next = member(body, "nextUpdate");
    if (uint_field(member(body, "version"), 100, &v) != 0 || !YAJL_IS_STRING(issue) ||
        !YAJL_IS_STRING(next) || parse_time(YAJL_GET_STRING(issue), &doc->issue) != 0 ||
        parse_time(YAJL_GET_STRING(next), &doc->next) != 0) {
        rc = bad(d, "collateral lacks a version, issueDate or nextUpdate");
        goto out;
    }
    doc->version = (int)v;
    if (uint_field(member(body, "tcbEvaluationDataNumber"), 0xFFFFFFFF, &v) == 0)
        doc->eval_number = (uint32_t)v;
    if (doc->type == 1) {
        if (hex_field(member(body, "fmspc"), doc->fmspc, 6) != 0 ||
            hex_field(member(body, "pceId"), doc->pceid, 2) != 0) {
            rc = bad(d, "TCB info lacks its fmspc or pceId");
            goto out;
        }
        doc->has_fmspc = 1;
        yajl_val mod = member(body, "tdxModule");
        if (mod) {
            if (hex_field(member(mod, "mrsigner"), doc->module_mrsigner, 48) != 0 ||
                hex_field(member(mod, "attributes"), doc->module_attributes, 8) != 0 ||
                hex_field(member(mod, "attributesMask"), doc->module_mask, 8) != 0) {
                rc = bad(d, "TCB info has a malformed tdxModule");
                goto out;
            }
            doc->has_module = 1;
        }
        yajl_val mods = member(body, "tdxModuleIdentities");
        if (mods && (rc = parse_modules(mods, doc)) != 0) {
            rc = rc == EOS_ENOMEM ? rc : bad(d, "TCB info has a malformed tdxModuleIdentities");
            goto out;
        }
    } else {
        if (hex_field(member(body, "miscselect"), doc->miscselect, 4) != 0 ||
            hex_field(member(body, "miscselectMask"), doc->miscselect_mask, 4) != 0 ||
            hex_field(member(body, "attributes"), doc->attributes, 16) != 0 ||
            hex_field(member(body, "attributesMask"), doc->attributes_mask, 16) != 0 ||
            hex_field(member(body, "mrsigner"), doc->mrsigner, 32) != 0 ||
            uint_field(member(body, "isvprodid"), 0xFFFF, &v) != 0) {
            rc = bad(d, "enclave identity lacks miscselect, attributes, mrsigner or isvprodid");
            goto out;
        }
        doc->isvprodid = (uint16_t)v;
    }
    rc = parse_levels(member(body, "tcbLevels"), doc->type, &doc->levels, &doc->level_count);
    if (rc != 0) {
        rc = rc == EOS_ENOMEM ? rc : bad(d, "collateral has missing or malformed tcbLevels");
        goto out;
    }
out:
    yajl_tree_free(root);
    if (rc != 0)
        doc_free(doc);
    return rc;
}

int eos_ratls_collateral_describe(const char *json, size_t size, eos_ratls_collateral_info *out,
                                  eos_diag *diag)
{
    intel_doc doc;
    eos_ratls__snp_tcb min;
    memset(out, 0, sizeof *out);
    if (size < 2 * 1024 && eos_ratls__snp_min_parse(json, size, &min, NULL) == 0) {
        out->type = 3;
        return 0;
    }
    int rc = parse_doc(json, size, &doc, diag);
    if (rc != 0)
        return rc;
    out->type = doc.type;
    memcpy(out->id, doc.id, sizeof out->id);
    out->version = doc.version;
    out->issue_date = doc.issue;
    out->next_update = doc.next;
    out->tcb_evaluation_number = doc.eval_number;
    out->level_count = doc.level_count;
    if (doc.has_fmspc)
        eos_hex_encode(doc.fmspc, 6, out->fmspc);
    doc_free(&doc);
    return 0;
}

/* What Intel's PCK certificate says about the platform (SGX extensions,
 * OID 1.2.840.113741.1.13.1): FMSPC, PCE ID, the 16 CPU SVN components and
 * the PCE SVN. */
typedef struct pck_tcb {
    uint8_t fmspc[6], pceid[2];
    uint16_t comp[16], pcesvn;
    int have; /* bit 0 fmspc, 1 pceid, 2 pcesvn, 3.. components */
} pck_tcb;

static int oid_is(const ASN1_OBJECT *o, const char *dotted)
{
    char buf[64];
    return OBJ_obj2txt(buf, sizeof buf, o, 1) > 0 && strcmp(buf, dotted) == 0;
}

static void walk_sgx_ext(const uint8_t *p, long n, pck_tcb *t, int depth)
{
    STACK_OF(ASN1_TYPE) *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, n);
    if (!seq || depth > 3)
        goto out;
    for (int i = 0; i < sk_ASN1_TYPE_num(seq); i++) {
        ASN1_TYPE *e = sk_ASN1_TYPE_value(seq, i);
        if (e->type != V_ASN1_SEQUENCE)
            continue;
        const uint8_t *q = e->value.sequence->data;
        STACK_OF(ASN1_TYPE) *pair =
            d2i_ASN1_SEQUENCE_ANY(NULL, &q, e->value.sequence->length);
        if (pair && sk_ASN1_TYPE_num(pair) == 2 &&
            sk_ASN1_TYPE_value(pair, 0)->type == V_ASN1_OBJECT) {
            const ASN1_OBJECT *o = sk_ASN1_TYPE_value(pair, 0)->value.object;
            ASN1_TYPE *v = sk_ASN1_TYPE_value(pair, 1);
            char txt[64];
            int unused = OBJ_obj2txt(txt, sizeof txt, o, 1);
            (void)unused;
            if (v->type == V_ASN1_SEQUENCE) {
                walk_sgx_ext(v->value.sequence->data, v->value.sequence->length, t, depth + 1);
            } else if (v->type == V_ASN1_OCTET_STRING && oid_is(o, "1.2.840.113741.1.13.1.4") &&
                       v->value.octet_string->length == 6) {
                memcpy(t->fmspc, v->value.octet_string->data, 6);
                t->have |= 1;
            } else if (v->type == V_ASN1_OCTET_STRING &&
                       oid_is(o, "1.2.840.113741.1.13.1.3") &&
                       v->value.octet_string->length == 2) {
                memcpy(t->pceid, v->value.octet_string->data, 2);
                t->have |= 2;
            } else if (v->type == V_ASN1_INTEGER &&
                       strncmp(txt, "1.2.840.113741.1.13.1.2.", 24) == 0) {
                int k = atoi(txt + 24);
                long val = ASN1_INTEGER_get(v->value.integer);
                if (k == 17 && val >= 0 && val <= 0xFFFF) {
                    t->pcesvn = (uint16_t)val;
                    t->have |= 4;
                } else if (k >= 1 && k <= 16 && val >= 0 && val <= 0xFF) {
                    t->comp[k - 1] = (uint16_t)val;
                    t->have |= 8 << (k - 1);
                }
            }
        }
        sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
    }
out:
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
    ERR_clear_error();
}

static int read_pck_tcb(X509 *pck, pck_tcb *t)
{
    memset(t, 0, sizeof *t);
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    int i = obj ? X509_get_ext_by_OBJ(pck, obj, -1) : -1;
    ASN1_OBJECT_free(obj);
    if (i < 0)
        return -1;
    const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(pck, i));
    walk_sgx_ext(ASN1_STRING_get0_data(os), ASN1_STRING_length(os), t, 0);
    return t->have == (0x7 | (0xFFFF << 3)) ? 0 : -1;
}

/* Worse of a platform status and a QE or TDX module status, as Intel's
 * verification library merges them. */
static eos_ratls_tcb_status converge(eos_ratls_tcb_status platform, eos_ratls_tcb_status other)
{
    if (other == EOS_RATLS_TCB_REVOKED || platform == EOS_RATLS_TCB_REVOKED)
        return EOS_RATLS_TCB_REVOKED;
    if (other == EOS_RATLS_TCB_OUT_OF_DATE || other == EOS_RATLS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED) {
        if (platform == EOS_RATLS_TCB_CONFIGURATION_NEEDED ||
            platform == EOS_RATLS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED ||
            platform == EOS_RATLS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED)
            return EOS_RATLS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
        return EOS_RATLS_TCB_OUT_OF_DATE;
    }
    return platform;
}

/* Verifies a document's signature with the TCB signing certificate and its
 * validity at now. */
static int check_doc(const intel_doc *doc, const char *what, EVP_PKEY *key, int64_t now,
                     eos_diag *d)
{
    if (!doc->has_sig ||
        !eos_ratls__p256_verify_raw(key, doc->sig, (const uint8_t *)doc->body, doc->body_size))
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "the %s signature does not verify with Intel's TCB signing "
                            "certificate",
                            what);
    if (now < doc->issue)
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "the %s was issued after the verification time", what);
    if (now > doc->next)
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "the %s is out of date (nextUpdate passed): fetch fresh collateral",
                            what);
    return 0;
}

/* The first level (they are ordered best first) that the values reach. */
static const level *find_level(const intel_doc *doc, const pck_tcb *t,
                               const eos_tee_evidence_info *info, size_t tdx_from)
{
    for (size_t i = 0; i < doc->level_count; i++) {
        const level *l = &doc->levels[i];
        int ok = t->pcesvn >= l->pcesvn;
        for (int k = 0; ok && k < 16; k++)
            ok = t->comp[k] >= l->sgx[k];
        if (ok && info->kind == EOS_TEE_KIND_TDX) {
            if (!l->has_tdx)
                continue;
            for (size_t k = tdx_from; ok && k < 16; k++)
                ok = info->tcb[k] >= l->tdx[k];
        }
        if (ok)
            return l;
    }
    return NULL;
}

/* For TDX 1.5 and later (TEE_TCB_SVN[1] > 0), the TDX module's own identity
 * and levels; *out_status is left alone when the TCB info has none. */
static int check_module(const intel_doc *doc, const eos_tee_evidence_info *info,
                        eos_ratls_tcb_status *out_status, eos_diag *d)
{
    const uint8_t *mrsigner = info->tcb + 64, *attrs = info->tcb + 112;
    const uint8_t *want_signer = doc->module_mrsigner, *want_attrs = doc->module_attributes;
    const uint8_t *mask = doc->module_mask;
    const module_id *m = NULL;
    if (info->tcb[1] > 0)
        for (size_t i = 0; i < doc->module_count; i++)
            if (doc->modules[i].major == info->tcb[1])
                m = &doc->modules[i];
    if (info->tcb[1] > 0 && doc->module_count > 0 && !m)
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "the TCB info names no TDX module identity TDX_%02X", info->tcb[1]);
    if (m) {
        want_signer = m->mrsigner;
        want_attrs = m->attributes;
        mask = m->mask;
    } else if (!doc->has_module) {
        return 0;
    }
    int attrs_ok = 1;
    for (int i = 0; i < 8; i++)
        attrs_ok &= (attrs[i] & mask[i]) == (want_attrs[i] & mask[i]);
    if (memcmp(mrsigner, want_signer, 48) != 0 || !attrs_ok)
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "the TD's TDX module (MRSIGNERSEAM, SEAMATTRIBUTES) is not the one "
                            "Intel's TCB info names");
    if (!m)
        return 0;
    for (size_t i = 0; i < m->level_count; i++)
        if (info->tcb[0] >= m->levels[i].isvsvn) {
            *out_status = m->levels[i].status;
            return 0;
        }
    *out_status = EOS_RATLS_TCB_OUT_OF_DATE;
    return 0;
}

/* The QE report against the QE identity; its status into *out. */
static int check_qe(const intel_doc *qe, const eos_tee_evidence_info *info,
                    eos_ratls_tcb_status *out, eos_diag *d)
{
    const uint8_t *r = info->qe_report;
    int ok = memcmp(r + 128, qe->mrsigner, 32) == 0 &&
             (uint16_t)(r[256] | r[257] << 8) == qe->isvprodid;
    for (int i = 0; i < 4; i++)
        ok &= (r[16 + i] & qe->miscselect_mask[i]) == (qe->miscselect[i] & qe->miscselect_mask[i]);
    for (int i = 0; i < 16; i++)
        ok &= (r[48 + i] & qe->attributes_mask[i]) == (qe->attributes[i] & qe->attributes_mask[i]);
    if (!ok)
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "the quoting enclave is not the one Intel's QE identity names "
                            "(MRSIGNER, ISVPRODID, MISCSELECT or ATTRIBUTES differ)");
    uint16_t isvsvn = (uint16_t)(r[258] | r[259] << 8);
    for (size_t i = 0; i < qe->level_count; i++)
        if (isvsvn >= qe->levels[i].isvsvn) {
            *out = qe->levels[i].status;
            return 0;
        }
    *out = EOS_RATLS_TCB_OUT_OF_DATE;
    return 0;
}

int eos_ratls__intel_tcb(const eos_tee_evidence_info *info, X509 *pck,
                         const eos_ratls__collateral *c, STACK_OF(X509) * anchors, int64_t now,
                         eos_ratls_verify_result *r, eos_diag *d)
{
    intel_doc tcb, qe;
    pck_tcb t;
    char err[160];
    int rc;
    int tdx = info->kind == EOS_TEE_KIND_TDX;
    eos_ratls_tcb_status qe_status = EOS_RATLS_TCB_UP_TO_DATE;
    eos_ratls_tcb_status module_status = EOS_RATLS_TCB_UP_TO_DATE;
    memset(&tcb, 0, sizeof tcb);
    memset(&qe, 0, sizeof qe);
    if (!now)
        now = (int64_t)time(NULL);
    if (!c->tcb_info || !c->qe_identity || !c->tcb_chain)
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "the collateral lacks %s (see docs/attestation.md for the files)",
                            !c->tcb_info      ? "tcbInfo.json"
                            : !c->qe_identity ? "qeIdentity.json"
                                              : "tcbSignChain.pem");
    /* The PCS sends the signing certificate and the root in either order:
     * the signer is the one not issued by itself. */
    X509 *signer = sk_X509_value(c->tcb_chain, 0);
    for (int i = 0; i < sk_X509_num(c->tcb_chain); i++) {
        X509 *x = sk_X509_value(c->tcb_chain, i);
        if (X509_check_issued(x, x) != X509_V_OK) {
            signer = x;
            break;
        }
    }
    rc = eos_ratls__verify_cert(signer, c->tcb_chain, anchors, c->crls, now, err, sizeof err);
    if (rc != 0)
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "Intel's TCB signing certificate does not chain to the Intel root: %s",
                            rc == EOS_EPERM ? "it is revoked" : err);
    eos_diag pd;
    eos_diag_init(&pd);
    if ((rc = parse_doc(c->tcb_info, c->tcb_info_size, &tcb, &pd)) != 0 ||
        (rc = parse_doc(c->qe_identity, c->qe_identity_size, &qe, &pd)) != 0) {
        if (rc != EOS_ENOMEM)
            rc = eos_diag_set(d, EOS_EVERIFY, "tcb", -1, "collateral: %s", pd.message);
        goto out;
    }
    if (tcb.type != 1 || qe.type != 2) {
        rc = eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                          "tcbInfo.json must hold a TCB info and qeIdentity.json a QE identity");
        goto out;
    }
    EVP_PKEY *key = X509_get0_pubkey(signer);
    if ((rc = check_doc(&tcb, "TCB info", key, now, d)) != 0 ||
        (rc = check_doc(&qe, "QE identity", key, now, d)) != 0)
        goto out;
    if ((tcb.id[0] && strcmp(tcb.id, tdx ? "TDX" : "SGX") != 0) || (tdx && !tcb.id[0]) ||
        (qe.id[0] && strcmp(qe.id, tdx ? "TD_QE" : "QE") != 0)) {
        rc = eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                          "the collateral is for %s/%s, not for this %s quote", tcb.id, qe.id,
                          tdx ? "TDX" : "SGX");
        goto out;
    }
    if (read_pck_tcb(pck, &t) != 0) {
        rc = eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                          "the PCK certificate lacks Intel's SGX extensions (FMSPC, TCB)");
        goto out;
    }
    if (memcmp(t.fmspc, tcb.fmspc, 6) != 0 || memcmp(t.pceid, tcb.pceid, 2) != 0) {
        char want[13], got[13];
        eos_hex_encode(tcb.fmspc, 6, want);
        eos_hex_encode(t.fmspc, 6, got);
        rc = eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                          "the TCB info is for FMSPC %s, the platform is FMSPC %s: fetch the "
                          "TCB info for the platform's FMSPC",
                          want, got);
        goto out;
    }
    if ((rc = check_qe(&qe, info, &qe_status, d)) != 0)
        goto out;
    if (tdx && (rc = check_module(&tcb, info, &module_status, d)) != 0)
        goto out;
    /* TDX 1.5 reports the module's version in TEE_TCB_SVN[0..1], which the
     * module identity judges; only the rest is compared with the levels. */
    const level *l = find_level(&tcb, &t, info, tdx && info->tcb[1] > 0 ? 2 : 0);
    if (!l) {
        rc = eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                          "the platform's TCB is below every level in Intel's TCB info (TCB "
                          "not supported)");
        goto out;
    }
    r->tcb_status = converge(converge(l->status, qe_status), module_status);
    snprintf(r->tcb_detail, sizeof r->tcb_detail, "platform %s since %s%s%s; QE %s",
             eos_ratls_tcb_status_name(l->status), l->date, l->advisories[0] ? "; " : "",
             l->advisories, eos_ratls_tcb_status_name(qe_status));
    rc = 0;
out:
    doc_free(&tcb);
    doc_free(&qe);
    return rc;
}
