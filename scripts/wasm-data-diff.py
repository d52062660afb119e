#!/usr/bin/env python3
# Compares two components' core modules and, where a module differs, its data
# segments as a memory image: which sections differ and which byte ranges of
# linear memory, shown in hex. Used to find what makes two builds differ.
#   scripts/wasm-data-diff.py A.wasm B.wasm [MAX_RUNS]
import sys


def leb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return r, i


def sections(b, start, end):
    i = start
    while i < end:
        sid = b[i]
        n, j = leb(b, i + 1)
        yield sid, j, j + n
        i = j + n


def core_modules(b, start, end):
    """Core modules (component section 1), nested components (4) included."""
    out = []
    for sid, a, z in sections(b, start, end):
        if sid == 1:
            out.append((a, z))
        elif sid == 4:
            out += core_modules(b, a + 8, z)
    return out


def module_parts(b, start, end):
    """A core module's sections by id, and its active data segments as (offset, bytes)."""
    secs, segs = {}, []
    for sid, a, z in sections(b, start + 8, end):
        secs.setdefault(sid, []).append(b[a:z])
        if sid != 11:
            continue
        n, i = leb(b, a)
        for _ in range(n):
            kind, i = leb(b, i)
            if kind != 0 or b[i] != 0x41:
                raise SystemExit("only active segments at an i32.const offset are read")
            off, i = leb(b, i + 1)
            if b[i] != 0x0B:
                raise SystemExit("unexpected data segment offset expression")
            size, i = leb(b, i + 1)
            segs.append((off, b[i:i + size]))
            i += size
    return secs, segs


def memory(segs):
    m = {}
    for off, data in segs:
        for k, c in enumerate(data):
            m[off + k] = c
    return m


def main():
    if len(sys.argv) < 3:
        raise SystemExit("usage: wasm-data-diff.py A.wasm B.wasm [MAX_RUNS]")
    a, b = (open(p, "rb").read() for p in sys.argv[1:3])
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    ma, mb = core_modules(a, 8, len(a)), core_modules(b, 8, len(b))
    print("core modules:", [z - s for s, z in ma], [z - s for s, z in mb])
    differ = 0
    for k, ((sa, za), (sb, zb)) in enumerate(zip(ma, mb)):
        if a[sa:za] == b[sb:zb]:
            print(f"module {k}: identical")
            continue
        differ = 1
        seca, sega = module_parts(a, sa, za)
        secb, segb = module_parts(b, sb, zb)
        for sid in sorted(set(seca) | set(secb)):
            if seca.get(sid) != secb.get(sid):
                print(f"module {k}: section {sid} differs")
        mema, memb = memory(sega), memory(segb)
        diff = [x for x in sorted(set(mema) | set(memb)) if mema.get(x, 0) != memb.get(x, 0)]
        runs = []
        for x in diff:
            if runs and x - runs[-1][1] <= 8:
                runs[-1][1] = x
            else:
                runs.append([x, x])
        print(f"module {k}: {len(sega)} and {len(segb)} data segments; {len(diff)} bytes of "
              f"memory differ in {len(runs)} places")
        for lo, hi in runs[:limit]:
            start = lo - lo % 16
            ha = bytes(mema.get(x, 0) for x in range(start, hi + 1)).hex()
            hb = bytes(memb.get(x, 0) for x in range(start, hi + 1)).hex()
            print(f"  {lo:#x}..{hi:#x}: {ha} | {hb}")
    if len(ma) != len(mb):
        differ = 1
        print("the components hold different numbers of core modules")
    return differ


if __name__ == "__main__":
    sys.exit(main())
