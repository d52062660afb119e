/* libFuzzer target for the stored-value envelope: arbitrary bytes from the
 * untrusted host go through the parser and, when it accepts them, through
 * authentication of the name and value under a fixed namespace key. */
#include <stdint.h>
#include <string.h>

#include "../../src/kv/internal.h"

static eos_kv kv;
static eos_kv_ns ns;
static eos_kv__slot *slot;

static void setup(void)
{
    kv.aes = EVP_aes_256_gcm();
    kv.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    kv.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    ns.kv = &kv;
    memset(ns.name_key, 1, sizeof ns.name_key);
    memset(ns.value_key, 2, sizeof ns.value_key);
    pthread_mutex_init(&ns.lock, NULL);
    if (eos_kv__slot_get(&ns, &slot, NULL) != 0)
        __builtin_trap();
}

/* Sealing then parsing and opening must give back exactly the input. */
static void roundtrip(const uint8_t *data, size_t size)
{
    static const uint8_t dbkey[EOS_KV_DBKEY_SIZE] = {3};
    uint8_t name[EOS_KV_MAX_NAME_SIZE];
    uint8_t *env_bytes = NULL, *value = NULL;
    size_t env_size = 0;
    eos_kv__envelope env;
    size_t name_size = size == 0 ? 0 : (data[0] % 64) + 1;
    if (name_size == 0 || name_size > size - 1)
        return;
    const uint8_t *v = data + 1 + name_size;
    size_t v_size = size - 1 - name_size;
    if (eos_kv__seal(&ns, slot, dbkey, (const char *)data + 1, name_size, v, v_size, NULL, 0,
                     &env_bytes, &env_size, NULL) != 0)
        return;
    if (eos_kv__envelope_parse(env_bytes, env_size, &env, NULL) != 0 ||
        eos_kv__open_name(slot, dbkey, &env, name, NULL) != 0 ||
        memcmp(name, data + 1, name_size) != 0)
        __builtin_trap();
    value = eos_malloc(env.value_size);
    if (!value || env.value_size != v_size ||
        eos_kv__open_value(slot, dbkey, &env, value, NULL) != 0 ||
        (v_size && memcmp(value, v, v_size) != 0))
        __builtin_trap();
    eos_free(value, env.value_size);
    eos_free(env_bytes, env_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t name[EOS_KV_MAX_NAME_SIZE];
    static const uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    eos_kv__envelope env;
    if (!slot)
        setup();
    roundtrip(data, size);
    if (eos_kv__envelope_parse(data, size, &env, NULL) != 0)
        return 0;
    /* Accepted envelopes must describe bytes inside the input. */
    if (env.value_tag + EOS_KV__TAG_SIZE != data + size || env.name_size > sizeof name)
        __builtin_trap();
    if (eos_kv__open_name(slot, dbkey, &env, name, NULL) == 0)
        __builtin_trap(); /* forging a tag by chance means the check is broken */
    uint8_t *value = eos_malloc(env.value_size);
    if (value && eos_kv__open_value(slot, dbkey, &env, value, NULL) == 0)
        __builtin_trap();
    eos_free(value, env.value_size);
    return 0;
}
