// A small DER reader for the one job the console needs: find the RA-TLS
// extensions, the public key and the validity of the certificates that
// /.well-known/enclave-os/certificate serves. Nothing here trusts lengths.

export function pemBlocks(text) {
  const out = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    const b64 = m[1].replace(/\s+/g, '');
    const bin = atob(b64);
    const der = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) der[i] = bin.charCodeAt(i);
    out.push({ pem: m[0], der });
  }
  return out;
}

// One TLV at off: {tag, start (of the whole TLV), hdr (header size), len, end}.
export function tlv(buf, off) {
  if (off + 2 > buf.length) throw new Error('DER: truncated header at byte ' + off);
  const tag = buf[off];
  let len = buf[off + 1];
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || off + 2 + n > buf.length) throw new Error('DER: bad length at byte ' + off);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i];
    hdr += n;
  }
  const end = off + hdr + len;
  if (end > buf.length) throw new Error('DER: value runs past the end at byte ' + off);
  return { tag, start: off, hdr, len, end, value: buf.subarray(off + hdr, end) };
}

export function children(buf, t) {
  const out = [];
  let off = t.start + t.hdr;
  while (off < t.end) {
    const c = tlv(buf, off);
    out.push(c);
    off = c.end;
  }
  return out;
}

export function oidString(v) {
  const parts = [];
  let acc = 0;
  for (let i = 0; i < v.length; i++) {
    acc = acc * 128 + (v[i] & 0x7f);
    if (!(v[i] & 0x80)) {
      if (parts.length === 0) {
        const first = acc < 80 ? Math.floor(acc / 40) : 2;
        parts.push(first, acc - first * 40);
      } else {
        parts.push(acc);
      }
      acc = 0;
    }
  }
  return parts.join('.');
}

const td = new TextDecoder();

function parseTime(t) {
  const s = td.decode(t.value);
  // UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ.
  const full = t.tag === 0x17 ? (Number(s.slice(0, 2)) >= 50 ? '19' : '20') + s : s;
  const iso = `${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}T` +
    `${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`;
  return iso;
}

function nameText(buf, t) {
  // RDNSequence: SET { SEQ { OID, value } } ...; keep CN and O, enough to recognise a cert.
  const names = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.6': 'C' };
  const parts = [];
  for (const set of children(buf, t)) {
    for (const atv of children(buf, set)) {
      const [oid, val] = children(buf, atv);
      const key = names[oidString(oid.value)];
      if (key) parts.push(`${key}=${td.decode(val.value)}`);
    }
  }
  return parts.join(', ');
}

// The fields of one certificate the console shows or checks.
export function parseCertificate(der) {
  const cert = tlv(der, 0);
  const [tbs] = children(der, cert);
  const f = children(der, tbs);
  let i = 0;
  if (f[i].tag === 0xa0) i++; // explicit version
  i += 2; // serial, signature algorithm
  const issuer = f[i++];
  const validity = f[i++];
  const subject = f[i++];
  const spki = f[i++];
  const [nb, na] = children(der, validity);
  const out = {
    issuer: nameText(der, issuer),
    subject: nameText(der, subject),
    notBefore: parseTime(nb),
    notAfter: parseTime(na),
    spki: der.slice(spki.start, spki.end),
    extensions: new Map(),
  };
  for (; i < f.length; i++) {
    if (f[i].tag !== 0xa3) continue;
    const [seq] = children(der, f[i]);
    for (const ext of children(der, seq)) {
      const parts = children(der, ext);
      const oid = oidString(parts[0].value);
      const octets = parts[parts.length - 1];
      if (octets.tag === 0x04) out.extensions.set(oid, octets.value.slice());
    }
  }
  return out;
}
