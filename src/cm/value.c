/* Dynamic component values: printing (for tools and test failures) and
 * structural equality (for tests and round trips). */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "internal.h"

static bool flag_set(const eos_cm_val *v, uint32_t i)
{
    if (i < 64)
        return (v->of.flags.bits >> i) & 1;
    return v->of.flags.more && ((v->of.flags.more[(i - 64) / 32] >> ((i - 64) % 32)) & 1);
}

static const eos_cm_type *case_type(const eos_cm_type *t, uint32_t i)
{
    switch (t->kind) {
    case EOS_CM_VARIANT:
        return i < t->count ? t->types[i] : NULL;
    case EOS_CM_OPTION:
        return i == 1 ? t->elem : NULL;
    case EOS_CM_RESULT:
        return i == 0 ? t->elem : i == 1 ? t->err : NULL;
    default:
        return NULL;
    }
}

static void print_str(const char *s, size_t len, FILE *out, char q)
{
    fputc(q, out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)q || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u{%x}", c);
        else
            fputc(c, out);
    }
    fputc(q, out);
}

static void print_val(const eos_cm_type *t, const eos_cm_val *v, FILE *out, int depth)
{
    if (depth > EOS_CM_MAX_DEPTH) {
        fputs("...", out);
        return;
    }
    switch (t->kind) {
    case EOS_CM_BOOL:
        fputs(v->of.b ? "true" : "false", out);
        break;
    case EOS_CM_S8:
    case EOS_CM_S16:
    case EOS_CM_S32:
    case EOS_CM_S64:
        fprintf(out, "%" PRId64, v->of.s);
        break;
    case EOS_CM_U8:
    case EOS_CM_U16:
    case EOS_CM_U32:
    case EOS_CM_U64:
        fprintf(out, "%" PRIu64, v->of.u);
        break;
    case EOS_CM_F32:
        fprintf(out, "%.9g", (double)v->of.f32);
        break;
    case EOS_CM_F64:
        fprintf(out, "%.17g", v->of.f64);
        break;
    case EOS_CM_CHAR: {
        char b[4];
        size_t n = v->of.ch < 0x80 ? 1 : v->of.ch < 0x800 ? 2 : v->of.ch < 0x10000 ? 3 : 4;
        uint32_t c = v->of.ch;
        if (n == 1)
            b[0] = (char)c;
        else if (n == 2)
            b[0] = (char)(0xc0 | c >> 6), b[1] = (char)(0x80 | (c & 0x3f));
        else if (n == 3)
            b[0] = (char)(0xe0 | c >> 12), b[1] = (char)(0x80 | (c >> 6 & 0x3f)),
            b[2] = (char)(0x80 | (c & 0x3f));
        else
            b[0] = (char)(0xf0 | c >> 18), b[1] = (char)(0x80 | (c >> 12 & 0x3f)),
            b[2] = (char)(0x80 | (c >> 6 & 0x3f)), b[3] = (char)(0x80 | (c & 0x3f));
        print_str(b, n, out, '\'');
        break;
    }
    case EOS_CM_STRING:
        print_str(v->of.str.ptr, v->of.str.len, out, '"');
        break;
    case EOS_CM_LIST:
        fputc('[', out);
        for (size_t i = 0; i < v->of.list.len; i++) {
            if (i)
                fputs(", ", out);
            if (v->of.list.bytes)
                fprintf(out, "%d",
                        t->elem->kind == EOS_CM_S8 ? (int)(int8_t)v->of.list.bytes[i]
                                                   : (int)v->of.list.bytes[i]);
            else
                print_val(t->elem, &v->of.list.items[i], out, depth + 1);
        }
        fputc(']', out);
        break;
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE:
        fputc(t->kind == EOS_CM_RECORD ? '{' : '(', out);
        for (uint32_t i = 0; i < t->count; i++) {
            if (i)
                fputs(", ", out);
            if (t->kind == EOS_CM_RECORD)
                fprintf(out, "%s: ", t->names[i]);
            print_val(t->types[i], &v->of.list.items[i], out, depth + 1);
        }
        fputc(t->kind == EOS_CM_RECORD ? '}' : ')', out);
        break;
    case EOS_CM_VARIANT:
    case EOS_CM_ENUM:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT: {
        static const char *opt[] = {"none", "some"}, *res[] = {"ok", "err"};
        uint32_t i = v->of.var.index;
        const char *nm = t->kind == EOS_CM_OPTION   ? opt[i & 1]
                         : t->kind == EOS_CM_RESULT ? res[i & 1]
                         : i < t->count             ? t->names[i]
                                                    : "?";
        fputs(nm, out);
        const eos_cm_type *ct = case_type(t, i);
        if (ct && v->of.var.payload) {
            fputc('(', out);
            print_val(ct, v->of.var.payload, out, depth + 1);
            fputc(')', out);
        }
        break;
    }
    case EOS_CM_FLAGS: {
        bool first = true;
        fputc('{', out);
        for (uint32_t i = 0; i < t->count; i++)
            if (flag_set(v, i)) {
                fprintf(out, "%s%s", first ? "" : ", ", t->names[i]);
                first = false;
            }
        fputc('}', out);
        break;
    }
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        fprintf(out, "%s(%u)", t->kind == EOS_CM_OWN ? "own" : "borrow", v->of.handle);
        break;
    default:
        fputs("?", out);
    }
}

int eos_cm_val_print(const eos_cm_type *t, const eos_cm_val *v, FILE *out)
{
    print_val(t, v, out, 0);
    return ferror(out) ? EOS_EIO : 0;
}

static bool val_equal(const eos_cm_type *t, const eos_cm_val *a, const eos_cm_val *b, int depth)
{
    if (depth > EOS_CM_MAX_DEPTH)
        return false;
    switch (t->kind) {
    case EOS_CM_BOOL:
        return a->of.b == b->of.b;
    case EOS_CM_S8:
    case EOS_CM_S16:
    case EOS_CM_S32:
    case EOS_CM_S64:
        return a->of.s == b->of.s;
    case EOS_CM_U8:
    case EOS_CM_U16:
    case EOS_CM_U32:
    case EOS_CM_U64:
        return a->of.u == b->of.u;
    case EOS_CM_F32:
        return memcmp(&a->of.f32, &b->of.f32, 4) == 0 || (isnan(a->of.f32) && isnan(b->of.f32));
    case EOS_CM_F64:
        return memcmp(&a->of.f64, &b->of.f64, 8) == 0 || (isnan(a->of.f64) && isnan(b->of.f64));
    case EOS_CM_CHAR:
        return a->of.ch == b->of.ch;
    case EOS_CM_STRING:
        return a->of.str.len == b->of.str.len &&
               (a->of.str.len == 0 || memcmp(a->of.str.ptr, b->of.str.ptr, a->of.str.len) == 0);
    case EOS_CM_LIST:
        if (a->of.list.len != b->of.list.len)
            return false;
        if (t->elem->kind == EOS_CM_U8 || t->elem->kind == EOS_CM_S8)
            return a->of.list.len == 0 ||
                   memcmp(a->of.list.bytes, b->of.list.bytes, a->of.list.len) == 0;
        for (size_t i = 0; i < a->of.list.len; i++)
            if (!val_equal(t->elem, &a->of.list.items[i], &b->of.list.items[i], depth + 1))
                return false;
        return true;
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE:
        for (uint32_t i = 0; i < t->count; i++)
            if (!val_equal(t->types[i], &a->of.list.items[i], &b->of.list.items[i], depth + 1))
                return false;
        return true;
    case EOS_CM_VARIANT:
    case EOS_CM_ENUM:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT: {
        if (a->of.var.index != b->of.var.index)
            return false;
        const eos_cm_type *ct = case_type(t, a->of.var.index);
        return !ct || val_equal(ct, a->of.var.payload, b->of.var.payload, depth + 1);
    }
    case EOS_CM_FLAGS:
        for (uint32_t i = 0; i < t->count; i++)
            if (flag_set(a, i) != flag_set(b, i))
                return false;
        return true;
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        return a->of.handle == b->of.handle;
    default:
        return false;
    }
}

bool eos_cm_val_equal(const eos_cm_type *t, const eos_cm_val *a, const eos_cm_val *b)
{
    return val_equal(t, a, b, 0);
}
