#!/usr/bin/env python3
# A second verifier written against docs/PROTOCOL.md without reusing the Java code (Python 3 standard library only),
# used to check that the spec plus these vectors are enough to interoperate. Not the reference implementation (that is
# protocol/). Section numbers below are those of PROTOCOL.md. Speed is no goal here; the verdicts are.
# Usage: python3 docs/test-vectors/independent_check.py docs/test-vectors
import base64, hashlib, hmac, json, os, re, stringprep, sys
import encodings.idna as idna

WSP = b' \t'
# 9, step 3: the singleton fields of RFC 5322 3.6 and RFC 2045
SINGLE = ['from', 'sender', 'reply-to', 'to', 'cc', 'subject', 'date', 'message-id', 'in-reply-to', 'references',
          'mime-version', 'content-type', 'content-transfer-encoding']
# 5.3: the ignore set (plus the configured signature header name)
IGNORED = {'received', 'return-path', 'delivered-to', 'authentication-results', 'arc-seal', 'arc-message-signature',
           'arc-authentication-results', 'dkim-signature'}
MAX_FIELD, MAX_TAGS, MAX_H = 8192, 32, 1024                      # 3.2, bounds
DOMAIN = re.compile(r'[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*')
DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
SERVER_VERDICTS = ('pass', 'none', 'fail', 'permerror', 'released', 'notice')   # 10.1, the values of sv=


class Verdict(Exception):
    def __init__(self, result, reason):
        self.v = (result, reason)


def perm(reason='malformed'): return Verdict('permerror', reason)
def fail(reason): return Verdict('fail', reason)


def is_domain(d): return len(d) <= 253 and DOMAIN.fullmatch(d) is not None


# ---- 7. Key derivation
def kdf(primary, kid, dom, p, per):
    fi = ((1).to_bytes(4, 'big') + b'X-Auth-HMAC v1 period key' + b'\0' + bytes([len(kid)]) + kid.encode()
          + bytes([len(dom)]) + dom.encode() + p.to_bytes(4, 'big') + per.to_bytes(8, 'big') + (256).to_bytes(4, 'big'))
    return fi, hmac.new(primary, fi, hashlib.sha256).digest()


# ---- Appendix, key fingerprint
def fingerprint(primary):
    fi = (0).to_bytes(4, 'big') + b'X-Auth-HMAC key fingerprint' + b'\0'
    fp = hmac.new(primary, fi, hashlib.sha256).digest()[:16].hex()
    return fi, fp, '-'.join(fp[i:i + 4] for i in range(0, 32, 4))


# ---- 2. Messages and line ends
def read_message(raw, max_header):
    """Header fields (raw form, lines joined by CRLF) and the body (bare LF read as CRLF); Verdict when malformed."""
    lines, pos, ended = [], 0, False
    while pos < len(raw):
        lf = raw.find(b'\n', pos)
        end, nxt = (lf, lf + 1) if lf >= 0 else (len(raw), len(raw))
        content = raw[pos:end]
        if content.endswith(b'\r'):                 # CRLF, or a CR that is the last octet of the message
            content = content[:-1]
        if b'\r' in content: raise perm()           # a bare CR in the header block
        pos = nxt
        if content == b'':
            ended = True
            break
        lines.append(content)
    # the bound: every octet before the body, the empty line included (all of the message when there is none)
    if (pos if ended else len(raw)) > max_header: raise perm()
    fields = []
    for line in lines:
        if line[:1] in (b' ', b'\t'):
            if not fields: raise perm()             # a continuation line before the first field
            fields[-1] += b'\r\n' + line
        else:
            if b':' not in line: raise perm()
            name = line.split(b':', 1)[0].rstrip(WSP)
            if not name or any(c < 33 or c > 126 for c in name): raise perm()
            fields.append(line)
    body = re.sub(rb'(?<!\r)\n', b'\r\n', raw[pos:]) if ended else b''
    return fields, body


def name(f): return f.split(b':', 1)[0].rstrip(WSP).lower().decode('ascii')


# ---- 4. Canonicalization
def relaxed_h(f):
    n, v = f.split(b':', 1)
    v = re.sub(rb'\r\n(?=[ \t])', b'', v)
    v = re.sub(rb'[ \t]+', b' ', v).strip(b' ')
    return n.rstrip(WSP).lower() + b':' + v


def canon_h(c, f): return f if c == 'simple' else relaxed_h(f)


def canon_b(c, body):
    if c == 'simple':
        while body.endswith(b'\r\n\r\n'): body = body[:-2]
        if body in (b'', b'\r\n'): return b'\r\n'
        return body if body.endswith(b'\r\n') else body + b'\r\n'
    body = re.sub(rb'[ \t]+\r\n', b'\r\n', body)
    body = re.sub(rb'[ \t]+', b' ', body)
    while body.endswith(b'\r\n\r\n'): body = body[:-2]
    if body == b'\r\n': return b''
    return body + b'\r\n' if body and not body.endswith(b'\r\n') else body


# ---- 3. The header field
def tag_list(field):
    if len(field) > MAX_FIELD: raise perm()        # bounds first, before anything is parsed
    s = field.split(b':', 1)[1]
    if s.count(b';') > MAX_TAGS: raise perm()
    if any(c > 0x7e for c in s): raise perm()
    s = s.decode('ascii')
    specs = s.split(';')
    if len(specs) > 1 and specs[-1].strip(' \t\r\n') == '': specs = specs[:-1]
    if len(specs) > MAX_TAGS: raise perm()
    tags = {}
    for spec in specs:
        if '=' not in spec: raise perm()
        k, v = spec.split('=', 1)
        k = k.strip(' \t\r\n')
        if not re.fullmatch(r'[A-Za-z][A-Za-z0-9_]*', k) or k in tags: raise perm()
        if not re.fullmatch(r'([\x21-\x3a\x3c-\x7e \t]|\r\n(?=[ \t]))*', v): raise perm()
        tags[k] = v.strip(' \t\r\n')
    return tags


def scalar(tags, t, pattern):
    v = tags.get(t)
    if not v or not re.fullmatch(pattern, v): raise perm()
    return v


def digest(v):
    v = re.sub(r'[ \t\r\n]', '', v)                 # FWS may stand anywhere in bh= and b=
    if not re.fullmatch(r'[A-Za-z0-9+/]{43}=', v) or B64.index(v[42]) & 3: raise perm()
    return base64.b64decode(v)


def parse(field):
    tags = tag_list(field)
    if scalar(tags, 'v', r'\S+') != '1': raise perm('unsupported-version')
    if scalar(tags, 'a', r'\S+').lower() != 'hmac-sha256': raise perm('unsupported-algorithm')
    h = {'d': scalar(tags, 'd', r'\S+').lower()}
    if not is_domain(h['d']): raise perm()
    h['s'] = scalar(tags, 's', r'[A-Za-z0-9._-]{1,64}')
    h['t'] = int(scalar(tags, 't', r'[0-9]{1,12}'))
    h['p'] = int(scalar(tags, 'p', r'[0-9]{1,5}')) if 'p' in tags else 900
    if not 60 <= h['p'] <= 86400: raise perm()
    c = scalar(tags, 'c', r'\S+').lower() if 'c' in tags else 'relaxed/relaxed'
    h['hc'], _, h['bc'] = c.partition('/')
    if not _: h['bc'] = 'simple'
    if h['hc'] not in ('simple', 'relaxed') or h['bc'] not in ('simple', 'relaxed'): raise perm()
    r = h['r'] = scalar(tags, 'r', r'\S+').lower()
    if '@' in r:
        local, dom = r.rsplit('@', 1)
        if len(local) > 64 or not DOT_ATOM.fullmatch(local) or not is_domain(dom): raise perm()
    elif not is_domain(r): raise perm()
    h['rc'] = int(scalar(tags, 'rc', r'[0-9]{1,5}')) if 'rc' in tags else 1
    if not 1 <= h['rc'] <= 10000: raise perm()
    sv, pd = tags.get('sv'), tags.get('pd')         # 10.1: the delivering server's verdict
    if sv is not None:
        if '@' not in r: raise perm()               # sv= only in a mailbox-bound signature
        if sv not in SERVER_VERDICTS: raise perm()  # lower case, compared exactly (so no whitespace inside)
    if pd is not None:
        pd = pd.lower()                             # read in lower case, as d=
        if not is_domain(pd): raise perm()
    if sv == 'pass' and pd is None: raise perm()    # pd= exactly when sv=pass
    if pd is not None and sv != 'pass': raise perm()
    h['sv'], h['pd'] = sv, pd
    h['n'] = scalar(tags, 'n', r'[A-Za-z0-9_-]{16,64}')
    hv = tags.get('h')
    if not hv: raise perm()
    if hv.count(':') >= MAX_H: raise perm()       # the h= bound, before the names are split
    names = [x.strip(' \t\r\n') for x in hv.split(':')]
    if any(not re.fullmatch(r'[\x21-\x39\x3b-\x7e]+', x) for x in names): raise perm()   # FWS only around ':'
    h['h'] = [x.lower() for x in names]
    if 'from' not in h['h']: raise perm()
    if not tags.get('bh') or not tags.get('b'): raise perm()
    h['bh'], h['b'] = digest(tags['bh']), digest(tags['b'])
    return h


# ---- 6. The signature field with the value of b= emptied
def empty_b(field):
    n, v = field.split(b':', 1)
    out = []
    for seg in v.split(b';'):
        k = seg.split(b'=', 1)[0]
        out.append(k + b'=' if b'=' in seg and k.strip(b' \t\r\n') == b'b' else seg)
    return n + b':' + b';'.join(out)


def mac_input(fields, h, sig):
    by_name = {}
    for f in reversed(fields): by_name.setdefault(name(f), []).append(f)      # bottom-up
    used, out = {}, b''
    for nm in h['h']:                               # 5.1: the n-th mention selects the n-th instance from the bottom
        u = used.get(nm, 0)
        used[nm] = u + 1
        if u < len(by_name.get(nm, [])): out += canon_h(h['hc'], by_name[nm][u]) + b'\r\n'
    return out + canon_h(h['hc'], empty_b(sig))


# ---- 9.2 Author domain
ATEXT = set("!#$%&'*+-/=?^_`{|}~")


def uni(c): return ord(c) >= 0xa0
def atext(c): return c.isascii() and (c.isalnum() or c in ATEXT) or uni(c)
def qtext(c): return c == '!' or '#' <= c <= '[' or ']' <= c <= '~' or uni(c)
def ctext(c): return '!' <= c <= "'" or '*' <= c <= '[' or ']' <= c <= '~' or uni(c)


def author_tokens(s):
    """(kind, text, cfws before) tokens of a From value; CFWS (nested comments, folding) skipped; None when lexically bad."""
    toks, i, n = [], 0, len(s)

    def fws(i):                                     # the end of the WSP or fold at i, or i, or -1 for a stray CR/LF
        if s[i] in ' \t': return i + 1
        if s[i] in '\r\n': return i + 3 if s[i:i + 2] == '\r\n' and i + 2 < n and s[i + 2] in ' \t' else -1
        return i

    def pair(i):                                    # quoted-pair at i ('\\'), the index after it or -1
        return i + 2 if i + 1 < n and ('!' <= s[i + 1] <= '~' or s[i + 1] in ' \t' or uni(s[i + 1])) else -1

    while True:
        start, depth = i, 0
        while i < n:                                # CFWS
            j = fws(i)
            if j < 0: return None
            if j > i: i = j; continue
            if s[i] == '(': depth += 1; i += 1
            elif depth and s[i] == ')': depth -= 1; i += 1
            elif depth and s[i] == '\\':
                i = pair(i)
                if i < 0: return None
            elif depth:
                if not ctext(s[i]): return None
                i += 1
            else: break
        if depth: return None
        space = i > start
        if i == n: return toks
        c = s[i]
        if c in '.@<>':
            toks.append((c, c, space)); i += 1
        elif c == '"':
            i += 1
            while True:
                if i >= n: return None
                j = fws(i)
                if j < 0: return None
                if j > i: i = j; continue
                if s[i] == '"': i += 1; break
                if s[i] == '\\':
                    i = pair(i)
                    if i < 0: return None
                elif qtext(s[i]): i += 1
                else: return None
            toks.append(('q', '', space))
        elif atext(c):
            j = i
            while j < n and atext(s[j]): j += 1
            toks.append(('a', s[i:j], space)); i = j
        else:
            return None


def author_domain(field):
    try: value = field.split(b':', 1)[1].decode('utf-8')
    except UnicodeDecodeError: return None
    toks = author_tokens(value)
    if toks is None: return None
    if any(k == '<' for k, _, _ in toks):           # name-addr: [display-name] "<" addr-spec ">"
        lt = [k for k, _, _ in toks].index('<')
        disp = toks[:lt]
        if disp and (disp[0][0] == '.' or any(k not in 'aq.' for k, _, _ in disp)): return None
        if toks[-1][0] != '>': return None
        toks = toks[lt + 1:-1]
    if '@' not in [k for k, _, _ in toks]: return None
    at = [k for k, _, _ in toks].index('@')
    local, dom = toks[:at], toks[at + 1:]

    def dot_atom_text(ts):                          # atoms and dots, no CFWS inside
        return (len(ts) % 2 == 1 and all(k == ('a' if i % 2 == 0 else '.') for i, (k, _, _) in enumerate(ts))
                and not any(sp for _, _, sp in ts[1:]))
    if not (len(local) == 1 and local[0][0] == 'q' or local and dot_atom_text(local)): return None
    if not dom or not dot_atom_text(dom): return None
    d = ''.join(t for _, t, _ in dom)
    if any(c in d for c in '\u3002\uff0e\uff61'): return None
    if d.isascii(): a = d.lower()
    else:
        if len(d) > 253: return None
        try:
            labels = []
            for label in d.split('.'):
                if not label.isascii():
                    if any(stringprep.in_table_a1(c) for c in label): return None   # AllowUnassigned not set
                    prepped = idna.nameprep(label)
                    if any(c.isascii() and not (c.isalnum() or c == '-') for c in prepped) \
                            or prepped.startswith('-') or prepped.endswith('-'): return None   # UseSTD3ASCIIRules
                labels.append(idna.ToASCII(label).decode('ascii'))
            a = '.'.join(labels)
        except UnicodeError:
            return None

        def to_unicode(label):                      # RFC 3490: ToUnicode never fails, it returns its input
            try: return idna.ToUnicode(label)
            except UnicodeError: return label
        if '.'.join(to_unicode(x) for x in a.split('.')).lower() != d.lower(): return None
        a = a.lower()
    return a if is_domain(a) else None


# ---- 9, 10, 11. Recipients
def normal_domain(d):
    if d.endswith('.'): d = d[:-1]
    if not d.isascii():
        try: d = '.'.join(idna.ToASCII(x).decode('ascii') for x in d.split('.'))
        except UnicodeError: return None
    d = d.lower()
    return d if is_domain(d) else None


class Recipient:
    def __init__(self, given):
        path = given.strip()
        if len(path) >= 2 and path[0] == '<' and path[-1] == '>': path = path[1:-1]
        self.local, _, dom = path.rpartition('@')
        self.domain = normal_domain(dom)
        if self.domain is None or (_ and not self.local): raise ValueError('not a recipient: ' + given)
        self.mailbox = self.local.lower() + '@' + self.domain if _ else None

    def bound_by(self, r):
        return r == self.mailbox if '@' in r else r == self.domain

    def replay_id(self, sep):
        if self.mailbox is None: return self.domain
        local = self.local
        if len(local) >= 2 and local[0] == local[-1] == '"':
            local = re.sub(r'\\(.)', r'\1', local[1:-1])
        local = local.lower()
        if sep and sep in local: local = local[:local.index(sep)]
        if not (len(local) <= 64 and DOT_ATOM.fullmatch(local) and local.isascii()):
            local = '"' + local.replace('\\', '\\\\').replace('"', '\\"') + '"'
        return local + '@' + self.domain


# ---- 9. Verification
def verify(vec, eml, defaults, shown):
    """The verdict for each recipient; fills shown with what a mailbox verifier reads (10.1): (sv, pd) of the
    mailbox-bound signature that passed for the recipient."""
    st = dict(defaults)
    st.update(vec.get('settings', {}))
    A = vec['acceptedAt']
    given = [r['recipient'] for r in vec['recipients']] if 'recipients' in vec else [vec['recipient']]
    rcpts = [Recipient(g) for g in given]
    all_ = lambda v: {g: v for g in given}
    keys = {k['keyId']: k for k in vec['keys']}
    rc = vec['replayCache']
    cache = {}
    for e in rc['entries']:
        cache.setdefault((e['domain'], e['keyId'], e['nonce']), set()).add(e['recipient'])
    try:
        fields, body = read_message(eml, st['maxHeaderBytes'])                      # step 1
    except Verdict as v:
        return all_(v.v)
    own = st['headerName'].lower()
    sigs = [f for f in fields if name(f) == own]                                    # step 2
    if not sigs: return all_(('none', 'no-signature'))
    if any(sum(1 for f in fields if name(f) == s) > 1 for s in SINGLE):              # step 3
        return all_(('fail', 'duplicate-header'))
    counts = {}
    for f in fields: counts[name(f)] = counts.get(name(f), 0) + 1
    froms = [f for f in fields if name(f) == 'from']
    author = author_domain(froms[0]) if len(froms) == 1 else None

    cands = []
    for f in sigs[:st['maxHeaders']]:                                               # steps 4 to 7
        try:
            h = parse(f)
            p = h['p']
            max_age = st['maxAgeSeconds'] if st['maxAgeSeconds'] is not None else (st['previousPeriods'] + 1) * p
            if h['t'] - A > st['maxFutureSkewSeconds']: raise fail('future')
            if A // p - h['t'] // p > st['previousPeriods'] or A - h['t'] > max_age: raise fail('expired')
            if p != st['periodSeconds']: raise perm('unknown-key')
            for nm, n in counts.items():
                if nm not in IGNORED and nm != own and n > h['h'].count(nm): raise fail('unsigned-header')
            if '@' not in h['r'] and author != h['d']: raise fail('from-mismatch')
            cands.append([f, h, None, None])
        except Verdict as v:
            cands.append([f, None, v.v, None])

    def crypto(c):                                                                  # steps 9 to 11
        f, h = c[0], c[1]
        k = keys.get(h['s'])
        if k is None or ('domains' in k and h['d'] not in k['domains']): return ('permerror', 'unknown-key')
        if k.get('source', vec['keySource']) == 'unavailable': return ('temperror', 'key-unavailable')
        _, kp = kdf(bytes.fromhex(k['primaryHex']), h['s'], h['d'], h['p'], h['t'] // h['p'])
        if not hmac.compare_digest(hmac.new(kp, mac_input(fields, h, f), hashlib.sha256).digest(), h['b']):
            return ('fail', 'bad-mac')
        if not hmac.compare_digest(hashlib.sha256(canon_b(h['bc'], body)).digest(), h['bh']):
            return ('fail', 'body-changed')
        return None

    decided = {}

    def replay(h, r):                                                               # step 12
        per_rcpt = st['replayScope'] == 'recipient'
        rid = r.replay_id(st['subAddressSeparator']) if per_rcpt else ''
        key = (h['d'], h['s'], h['n'], rid)
        if key in decided: return decided[key]
        seen = cache.get(key[:3], set())
        if rid in seen: v = ('fail', 'replay')
        elif len(seen) >= (h['rc'] if per_rcpt else 1): v = ('fail', 'replay')
        elif sum(map(len, cache.values())) >= rc['capacity'] or \
                sum(len(x) for s, x in cache.items() if s[0] == h['d']) >= rc.get('domainCapacity', rc['capacity']):
            v = ('temperror', 'internal-error')
        else:
            cache.setdefault(key[:3], set()).add(rid)
            v = ('pass', 'verified')
        decided[key] = v
        return v

    out = {}
    for g, r in zip(given, rcpts):
        verdicts = []
        for c in cands:
            binds = c[1] is not None and r.bound_by(c[1]['r'])
            if c[2] is not None: v = c[2]
            elif not binds: v = ('fail', 'wrong-recipient')
            else:
                if c[3] is None: c[3] = crypto(c) or 'ok'
                v = c[3] if c[3] != 'ok' else replay(c[1], r)
            if v[0] == 'pass': break
            verdicts.append((v, binds))
        else:
            v = next((v for v, _ in verdicts if v[0] == 'temperror'), None) \
                or next((v for v, b in verdicts if b), None) or verdicts[0][0]
        out[g] = v
        if v[0] == 'pass' and '@' in c[1]['r']: shown[g] = (c[1]['sv'], c[1]['pd'])
    return out


def check_intermediate(vec, eml, defaults):
    """For passing vectors: the same period, K_p, body hash and MAC input as the vector states."""
    i = vec['intermediate']
    own = vec.get('settings', {}).get('headerName', defaults['headerName']).lower()
    fields, body = read_message(eml, vec.get('settings', {}).get('maxHeaderBytes', defaults['maxHeaderBytes']))
    f = [x for x in fields if name(x) == own][i['signatureIndex']]
    h = parse(f)
    k = next(k for k in vec['keys'] if k['keyId'] == h['s'])
    _, kp = kdf(bytes.fromhex(k['primaryHex']), h['s'], h['d'], h['p'], h['t'] // h['p'])
    return (h['t'] // h['p'] == i['period'] and kp.hex() == i['periodKeyHex']
            and base64.b64encode(hashlib.sha256(canon_b(h['bc'], body)).digest()).decode() == i['bodyHash']
            and mac_input(fields, h, f).hex() == i['macInputHex'])


def main(d):
    root = json.load(open(os.path.join(d, 'vectors.json')))
    bad = 0
    for vec in root['vectors']:
        eml = open(os.path.join(d, vec['file']), 'rb').read()
        shown = {}
        got = verify(vec, eml, root['defaults'], shown)
        want = {r['recipient']: (r['expected']['result'], r['expected']['reason']) for r in vec['recipients']} \
            if 'recipients' in vec else {vec['recipient']: (vec['expected']['result'], vec['expected']['reason'])}
        if got != want: bad += 1; print('MISMATCH', vec['id'], got, want)
        elif 'serverVerdict' in vec.get('expected', {}) and shown.get(vec['recipient'], (None, None)) != \
                (vec['expected']['serverVerdict'], vec['expected']['partnerDomain']):
            bad += 1; print('MISMATCH', vec['id'], 'server verdict', shown.get(vec['recipient']))
        elif 'intermediate' in vec and not check_intermediate(vec, eml, root['defaults']):
            bad += 1; print('MISMATCH', vec['id'], 'intermediate values')
    for k in root['kdf']:
        fi, kp = kdf(bytes.fromhex(k['primaryHex']), k['keyId'], k['domain'], k['periodSeconds'], k['period'])
        if fi.hex() != k['fixedInputHex'] or kp.hex() != k['periodKeyHex']: bad += 1; print('KDF MISMATCH', k['keyId'])
    for f in root['fingerprint']:
        if fingerprint(bytes.fromhex(f['primaryHex'])) != (bytes.fromhex(f['inputHex']), f['fingerprintHex'], f['shown']):
            bad += 1; print('FINGERPRINT MISMATCH', f['primaryHex'][:8])
    print(len(root['vectors']), 'vectors,', len(root['kdf']), 'kdf,', len(root['fingerprint']), 'fingerprint;', bad, 'mismatches')
    return bad


if __name__ == '__main__':
    sys.exit(1 if main(sys.argv[1]) else 0)
