#!/usr/bin/env python3
# A second verifier written against docs/PROTOCOL.md without reusing the Java code (Python 3 standard library only), used to check
# that the spec plus these vectors are enough to interoperate. Not the reference implementation (that is protocol/).
# Usage: python3 docs/test-vectors/independent_check.py docs/test-vectors
import json, hmac, hashlib, base64, re, sys, os
D = sys.argv[1]
root = json.load(open(os.path.join(D, 'vectors.json')))
DEF = root['defaults']
# PROTOCOL.md section 9, message level, step 3: the singleton fields of RFC 5322 3.6 and RFC 2045
SINGLE = ['from','sender','reply-to','to','cc','subject','date','message-id','in-reply-to','references',
          'mime-version','content-type','content-transfer-encoding']

def kdf(primary, kid, dom, p, per):
    fi = (1).to_bytes(4,'big') + b'X-Auth-HMAC v1 period key' + b'\0' + bytes([len(kid)]) + kid.encode() + bytes([len(dom)]) + dom.encode() + p.to_bytes(4,'big') + per.to_bytes(8,'big') + (256).to_bytes(4,'big')
    return fi, hmac.new(primary, fi, hashlib.sha256).digest()

def split(msg):
    # normalize bare LF to CRLF
    msg = re.sub(rb'(?<!\r)\n', b'\r\n', msg)
    i = msg.find(b'\r\n\r\n')
    if msg.startswith(b'\r\n'): return [], msg[2:]
    if i < 0: head, body = msg, b''
    else: head, body = msg[:i], msg[i+4:]
    fields = []
    for line in head.split(b'\r\n'):
        if line[:1] in (b' ', b'\t'):
            fields[-1] += b'\r\n' + line
        else:
            if b':' not in line: raise ValueError('malformed')
            fields.append(line)
    return fields, body

def name(f): return f.split(b':',1)[0].rstrip(b' \t').lower().decode('latin1')

def relaxed_h(f):
    n, v = f.split(b':',1)
    v = re.sub(rb'\r\n(?=[ \t])', b'', v)
    v = re.sub(rb'[ \t]+', b' ', v).strip(b' ')
    return n.rstrip(b' \t').lower() + b':' + v

def canon_h(c, f): return f if c == 'simple' else relaxed_h(f)

def canon_b(c, body):
    if c == 'simple':
        while body.endswith(b'\r\n\r\n'): body = body[:-2]
        if body == b'\r\n' : return b'\r\n'
        if not body.endswith(b'\r\n'): body += b'\r\n'
        return body
    body = re.sub(rb'[ \t]+\r\n', b'\r\n', body)
    body = re.sub(rb'[ \t]+', b' ', body)
    while body.endswith(b'\r\n\r\n'): body = body[:-2]
    if body == b'\r\n': return b''
    if body and not body.endswith(b'\r\n'): body += b'\r\n'
    return body

class Perm(Exception): pass

def parse(val):
    s = val.decode('latin1')
    if any(ord(ch) > 0x7e for ch in s): raise Perm('malformed')
    parts = s.split(';')
    if parts and parts[-1].strip(' \t\r\n') == '' and len(parts) > 1: parts = parts[:-1]
    tags = {}
    for p in parts:
        if '=' not in p: raise Perm('malformed')
        k, v = p.split('=',1)
        k = k.strip(' \t\r\n'); v = v.strip(' \t\r\n')
        if not re.fullmatch(r'[A-Za-z][A-Za-z0-9_]*', k): raise Perm('malformed')
        if k in tags: raise Perm('malformed')
        tags[k] = v
    if 'v' not in tags or not tags['v']: raise Perm('malformed')
    if tags['v'] != '1': raise Perm('unsupported-version')
    if 'a' not in tags or not tags['a']: raise Perm('malformed')
    if tags['a'].lower() != 'hmac-sha256': raise Perm('unsupported-algorithm')
    for t in ['d','s','t','r','n','h','bh','b']:
        if not tags.get(t): raise Perm('malformed')
    h = {}
    dom = re.compile(r'[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*')
    h['d'] = tags['d'].lower()
    if not dom.fullmatch(h['d']): raise Perm('malformed')
    if not re.fullmatch(r'[A-Za-z0-9._-]{1,64}', tags['s']): raise Perm('malformed')
    h['s'] = tags['s']
    if not re.fullmatch(r'[0-9]{1,12}', tags['t']): raise Perm('malformed')
    h['t'] = int(tags['t'])
    p = tags.get('p', '900')
    if not re.fullmatch(r'[0-9]{1,5}', p) or not 60 <= int(p) <= 86400: raise Perm('malformed')
    h['p'] = int(p)
    c = tags.get('c', 'relaxed/relaxed').lower()
    if '/' not in c: c += '/simple'
    hc, bc = c.split('/',1)
    if hc not in ('simple','relaxed') or bc not in ('simple','relaxed'): raise Perm('malformed')
    h['hc'], h['bc'] = hc, bc
    r = tags['r'].lower()
    if '@' in r:
        lp, rd = r.rsplit('@',1)
        if not re.fullmatch(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*", lp) or not dom.fullmatch(rd): raise Perm('malformed')
    elif not dom.fullmatch(r): raise Perm('malformed')
    h['r'] = r
    if not re.fullmatch(r'[A-Za-z0-9_-]{16,64}', tags['n']): raise Perm('malformed')
    h['n'] = tags['n']
    names = re.sub(r'\s', '', tags['h']).split(':')
    if any(not x or not re.fullmatch(r'[\x21-\x39\x3b-\x7e]+', x) for x in names): raise Perm('malformed')
    names = [x.lower() for x in names]
    if 'from' not in names: raise Perm('malformed')
    h['h'] = names
    for t in ('bh','b'):
        try: raw = base64.b64decode(re.sub(r'\s','',tags[t]), validate=True)
        except Exception: raise Perm('malformed')
        if len(raw) != 32: raise Perm('malformed')
        h[t] = raw
    return h

def empty_b(f):
    n, v = f.split(b':',1)
    out = []; 
    segs = v.split(b';')
    for i, seg in enumerate(segs):
        k = seg.split(b'=',1)[0].strip(b' \t\r\n')
        out.append(seg.split(b'=',1)[0] + b'=' if k == b'b' else seg)
    return n + b':' + b';'.join(out)

def verify(vec, eml):
    st = dict(DEF); st.update(vec.get('settings', {}))
    A = vec['acceptedAt']; rcpt = vec['recipient']
    keys = {k['keyId']: bytes.fromhex(k['primaryHex']) for k in vec['keys']}
    cache = {(e['domain'],e['keyId'],e['nonce'],e['recipient']) for e in vec['replayCache']['entries']}
    cap = vec['replayCache']['capacity']
    try: fields, body = split(eml)
    except ValueError: return ('permerror','malformed')
    sigs = [f for f in fields if name(f) == st['headerName'].lower()]
    if not sigs: return ('none','no-signature')
    for s in SINGLE:
        if sum(1 for f in fields if name(f) == s) > 1: return ('fail','duplicate-header')
    rl = rcpt.lower(); rdom = rl.rsplit('@',1)[-1]
    verdicts = []
    for f in sigs[:st['maxHeaders']]:
        matches = False
        try:
            h = parse(f.split(b':',1)[1])
            maxage = st['maxAgeSeconds'] if st['maxAgeSeconds'] is not None else (st['previousPeriods']+1)*h['p']
            if h['t'] - A > st['maxFutureSkewSeconds']: v = ('fail','future')
            elif A//h['p'] - h['t']//h['p'] > st['previousPeriods'] or A - h['t'] > maxage: v = ('fail','expired')
            else:
                matches = h['r'] == (rl if '@' in h['r'] else rdom)
                if not matches: v = ('fail','wrong-recipient')
                elif vec['keySource'] == 'unavailable': v = ('temperror','key-unavailable')
                elif h['s'] not in keys: v = ('permerror','unknown-key')
                else:
                    _, kp = kdf(keys[h['s']], h['s'], h['d'], h['p'], h['t']//h['p'])
                    used = {}; inp = b''
                    for nm in h['h']:
                        inst = [x for x in fields if name(x) == nm]
                        u = used.get(nm, 0); used[nm] = u+1
                        if u < len(inst): inp += canon_h(h['hc'], inst[len(inst)-1-u]) + b'\r\n'
                    inp += canon_h(h['hc'], empty_b(f))
                    if not hmac.compare_digest(hmac.new(kp, inp, hashlib.sha256).digest(), h['b']): v = ('fail','bad-mac')
                    elif not hmac.compare_digest(hashlib.sha256(canon_b(h['bc'], body)).digest(), h['bh']): v = ('fail','body-changed')
                    else:
                        key = (h['d'], h['s'], h['n'], rl if st['replayScope'] == 'recipient' else '')
                        if key in cache: v = ('fail','replay')
                        elif len(cache) >= cap: v = ('temperror','internal-error')
                        else: return ('pass','verified')
        except Perm as e: v = ('permerror', str(e))
        verdicts.append((v, matches))
    for v, m in verdicts:
        if v[0] == 'temperror': return v
    for v, m in verdicts:
        if m: return v
    return verdicts[0][0]

bad = 0
for vec in root['vectors']:
    got = verify(vec, open(os.path.join(D, vec['file']),'rb').read())
    exp = (vec['expected']['result'], vec['expected']['reason'])
    if got != exp: bad += 1; print('MISMATCH', vec['id'], got, exp)
for k in root['kdf']:
    fi, kp = kdf(bytes.fromhex(k['primaryHex']), k['keyId'], k['domain'], k['periodSeconds'], k['period'])
    if fi.hex() != k['fixedInputHex'] or kp.hex() != k['periodKeyHex']: bad += 1; print('KDF MISMATCH', k['keyId'])
print(len(root['vectors']), 'vectors,', len(root['kdf']), 'kdf;', bad, 'mismatches')
