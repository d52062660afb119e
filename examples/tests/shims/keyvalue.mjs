// An in-memory wasi:keyvalue 0.2.0-draft2 (store, atomics, batch) for running apps
// under jco serve in tests: `--jco-map wasi:keyvalue/*=<this file>#*`. Not a store:
// everything is lost when the process ends.
const buckets = new Map();

function storeError(message) {
    const e = new Error(message);
    e.payload = { tag: 'other', val: message };
    return e;
}

class Bucket {
    constructor(name) {
        if (!buckets.has(name)) buckets.set(name, new Map());
        this.data = buckets.get(name);
    }
    get(key) { return this.data.has(key) ? new Uint8Array(this.data.get(key)) : undefined; }
    set(key, value) { this.data.set(key, new Uint8Array(value)); }
    delete(key) { this.data.delete(key); }
    exists(key) { return this.data.has(key); }
    listKeys(cursor) {
        // Pages of two keys, so that callers' cursor handling is exercised.
        const keys = [...this.data.keys()].sort();
        const start = cursor === undefined ? 0 : Number(cursor);
        const page = keys.slice(start, start + 2);
        const next = start + 2 < keys.length ? String(start + 2) : undefined;
        return { keys: page, cursor: next };
    }
}

class Cas {
    constructor(bucket, key) { this.bucket = bucket; this.key = key; this.seen = bucket.get(key); }
    static new(bucket, key) { return new Cas(bucket, key); }
    current() { return this.seen; }
}

function same(a, b) {
    if (a === undefined || b === undefined) return a === b;
    return a.length === b.length && a.every((v, i) => v === b[i]);
}

export const store = {
    Bucket,
    open(identifier) {
        if (identifier !== 'default') {
            const e = new Error('no such store');
            e.payload = { tag: 'no-such-store' };
            throw e;
        }
        return new Bucket(identifier);
    },
};

export const atomics = {
    Cas,
    increment(bucket, key, delta) {
        const old = bucket.get(key);
        let n = 0n;
        if (old !== undefined) {
            const text = new TextDecoder().decode(old);
            if (!/^-?\d+$/.test(text)) throw storeError(`${key} does not hold an integer`);
            n = BigInt(text);
        }
        n += delta;
        bucket.set(key, new TextEncoder().encode(n.toString()));
        return n;
    },
    swap(cas, value) {
        if (!same(cas.bucket.get(cas.key), cas.seen)) {
            const e = new Error('cas failed');
            e.payload = { tag: 'cas-failed', val: new Cas(cas.bucket, cas.key) };
            throw e;
        }
        cas.bucket.set(cas.key, value);
    },
};

export const batch = {
    getMany(bucket, keys) {
        return keys.map((k) => (bucket.exists(k) ? [k, bucket.get(k)] : undefined));
    },
    setMany(bucket, pairs) { for (const [k, v] of pairs) bucket.set(k, v); },
    deleteMany(bucket, keys) { for (const k of keys) bucket.delete(k); },
};
