#!/usr/bin/env python3
# Cross-checks the body canonicalization of the vectors against dkimpy (Debian package python3-dkim), the reference
# DKIM implementation in Python: the body of each vector is canonicalized by dkimpy's own code
# (dkim.canonicalization.CanonicalizationPolicy, which also reads c=), hashed as PROTOCOL.md 4.3 says (SHA-256 of the
# whole canonical body, base64: DKIM's bh= without l=), and compared with the body hash the vector records.
#
# Checked are the vectors whose expected verdict depends on the body hash (PROTOCOL.md 9, step 11):
#   * a vector with "intermediate" (a recipient passes): dkimpy's hash must equal intermediate.bodyHash and the bh=
#     of the signature header that passed (intermediate.signatureIndex);
#   * a vector whose expected reason is body-changed: dkimpy's hash must differ from the bh= of at least one signature
#     header (a dkimpy that matched every bh= would pass a body the protocol says was changed).
# The other vectors are decided before the body hash (malformed, expired, bad-mac, ...) and record none; they are
# counted as skipped. Where the protocol reads a body differently from RFC 6376 on purpose (line ends, the c=
# default, l=), the vector is checked as PROTOCOL.md reads it and listed with the section that says why.
#
# Usage: python3 docs/test-vectors/dkimpy_body_check.py [-v] docs/test-vectors
# (-v: one line per checked vector.) python3-dkim installs into the system python3 (/usr/bin/python3); a pyenv or
# venv python3 first on PATH may not see it. Exit status: 0 when no mismatch, 1 on a mismatch, 2 without dkimpy.
import base64, hashlib, json, os, re, sys

try:
    import dkim
    from dkim.canonicalization import CanonicalizationPolicy
except ImportError:
    print('dkimpy (module dkim) is not importable by %s: apt-get install python3-dkim' % sys.executable)
    sys.exit(2)

def dkimpy_version():
    try:
        from importlib.metadata import version
        return version('dkimpy')
    except Exception:
        return '?'


def read(raw):
    """PROTOCOL.md 2: header fields (raw form) and the body as received. Lines end in LF or CRLF; a CR that is the last
    octet of the message ends the last header line too. No body without an empty line."""
    fields, pos = [], 0
    while pos < len(raw):
        lf = raw.find(b'\n', pos)
        end, nxt = (lf, lf + 1) if lf >= 0 else (len(raw), len(raw))
        line = raw[pos:end]
        if line.endswith(b'\r'): line = line[:-1]
        pos = nxt
        if line == b'':
            return fields, raw[pos:]
        if line[:1] in (b' ', b'\t') and fields: fields[-1] += b'\r\n' + line
        else: fields.append(line)
    return fields, b''


def tags(field):
    """The tags of a signature header field: name -> value with FWS trimmed, bh= with all FWS removed."""
    out = {}
    for spec in field.split(b':', 1)[1].split(b';'):
        if b'=' in spec:
            k, v = spec.split(b'=', 1)
            out[k.strip(b' \t\r\n').decode('ascii', 'replace')] = v.strip(b' \t\r\n').decode('ascii', 'replace')
    if 'bh' in out: out['bh'] = re.sub(r'[ \t\r\n]', '', out['bh'])
    return out


def b64sha256(data): return base64.b64encode(hashlib.sha256(data).digest()).decode()


def canon(c, body):
    """dkimpy's canonical body for a c= value read as the protocol reads it: compared case-insensitively
    (PROTOCOL.md 3.2), relaxed/relaxed when absent (3.3). dkimpy's from_c_value makes c=relaxed relaxed/simple."""
    return CanonicalizationPolicy.from_c_value((c or 'relaxed/relaxed').lower().encode()).canonicalize_body(body)


def reasons(vec):
    if 'recipients' in vec: return [r['expected']['reason'] for r in vec['recipients']]
    return [vec['expected']['reason']]


def main(argv):
    verbose = '-v' in argv
    args = [a for a in argv if a != '-v']
    d = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    root = json.load(open(os.path.join(d, 'vectors.json')))
    print('dkimpy %s (%s): body canonicalization of %s' % (dkimpy_version(), os.path.dirname(dkim.__file__), d))
    checked, skipped, mismatches, on_purpose, notes, lines = 0, 0, [], [], [], []
    for vec in root['vectors']:
        vid = vec['id']
        body_changed = 'body-changed' in reasons(vec)
        if 'intermediate' not in vec and not body_changed:
            skipped += 1
            continue
        checked += 1
        raw = open(os.path.join(d, vec['file']), 'rb').read()
        st = dict(root['defaults'], **vec.get('settings', {}))
        fields, received = read(raw)
        body = re.sub(rb'(?<!\r)\n', b'\r\n', received)      # PROTOCOL.md 2: a bare LF is read as CRLF
        own = st['headerName'].lower().encode()
        sigs = [tags(f) for f in fields if f.split(b':', 1)[0].rstrip(b' \t').lower() == own][:st['maxHeaders']]
        if not sigs:
            mismatches.append('%s: no %s field' % (vid, st['headerName']))
            continue

        # dkimpy's own message reader (what dkim.verify canonicalizes) must give the same body bytes
        try:
            dkimpy_body = dkim.rfc822_parse(raw)[1]
            if dkimpy_body != body:
                mismatches.append('%s: dkim.rfc822_parse reads another body: ...%r, PROTOCOL.md 2 reads ...%r'
                                  % (vid, dkimpy_body[-40:], body[-40:]))
                continue
        except dkim.MessageFormatError as e:
            notes.append('%s: dkim.rfc822_parse refuses the header block (%s), which PROTOCOL.md 2 reads; the body is '
                         'split as PROTOCOL.md 2 says, and canonicalized by dkimpy' % (vid, e))

        if 'intermediate' in vec:
            i = vec['intermediate']
            sig = sigs[i['signatureIndex']]
            c = sig.get('c')
            canonical = canon(c, body)
            got = b64sha256(canonical)
            if got != i['bodyHash'] or got != sig.get('bh'):
                mismatches.append('%s: c=%s: dkimpy %s, intermediate.bodyHash %s, bh= %s'
                                  % (vid, c or '(absent)', got, i['bodyHash'], sig.get('bh')))
            else:
                cr = re.search(rb'\r(?!\n)', canonical)          # show a bare CR where there is one, else the end
                at = cr.start() - 8 if cr else len(canonical) - 14
                lines.append('ok %s: c=%s, dkimpy %s = intermediate.bodyHash = bh=, canonical body %r'
                             % (vid, c or '(absent)', got, b'...' + canonical[max(at, 0):at + 18] + b'...'))
        if body_changed:
            got = [(s, b64sha256(canon(s.get('c'), body))) for s in sigs if 'bh' in s]
            if all(h == s['bh'] for s, h in got):
                mismatches.append("%s: body-changed expected, but dkimpy's hash equals every bh= (%s)"
                                  % (vid, ', '.join(h for _, h in got)))
            else:
                lines.append('ok %s: body-changed expected; dkimpy %s, bh= %s'
                             % (vid, ', '.join(h for _, h in got), ', '.join(s['bh'] for s, _ in got)))

        # where the protocol reads the body otherwise than RFC 6376 does: said, with what DKIM would get instead
        for s in sigs:
            if 'bh' not in s: continue
            if s.get('c') is None:
                h = b64sha256(CanonicalizationPolicy.from_c_value(None).canonicalize_body(body))
                on_purpose.append(
                    "%s: no c= tag, so the body is relaxed (PROTOCOL.md 3.3: the default is relaxed/relaxed, not "
                    "DKIM's simple/simple); with dkimpy's default (simple) the hash would be %s, %s bh="
                    % (vid, h, 'equal to' if h == s['bh'] else 'not'))
            elif s['c'] != s['c'].lower():
                notes.append("%s: c=%s: the protocol compares c= case-insensitively (PROTOCOL.md 3.2, as RFC 5234 "
                             "strings are); dkimpy's from_c_value knows only lower case, so it gets the value in lower "
                             "case" % (vid, s['c']))
            if s.get('l', '').isdigit():
                n = int(s['l'])
                h = b64sha256(canon(s.get('c'), body)[:n])
                on_purpose.append(
                    '%s: l=%d is an unknown tag and the whole canonical body is hashed (PROTOCOL.md 3.3 and 13: no '
                    'l=); DKIM (RFC 6376 3.5, as dkimpy does) would hash only its first %d octets: %s, %s bh=, so DKIM '
                    'would %s' % (vid, n, n, h, 'equal to' if h == s['bh'] else 'not',
                                  'pass the appended body' if h == s['bh'] else 'fail it too'))
        if body != received:
            h = b64sha256(canon(sigs[0].get('c'), received))
            on_purpose.append(
                '%s: bare LF line ends in the body are read as CRLF before canonicalization (PROTOCOL.md 2, so that a '
                'signature survives a Unix mailbox), as dkim.rfc822_parse also reads them; RFC 6376 5.3 only asks '
                'signers to convert them. Canonicalizing the bytes as received would give %s, %s bh='
                % (vid, h, 'equal to' if h == sigs[0].get('bh') else 'not'))

    if on_purpose:
        print('Read otherwise than RFC 6376 on purpose, and checked as PROTOCOL.md reads them:')
        for m in on_purpose: print('  ' + m)
    for m in notes: print('note: ' + m)
    if verbose:
        for m in lines: print(m)
    for m in mismatches: print('MISMATCH ' + m)
    print('%d vectors skipped: decided before the body hash (PROTOCOL.md 9), they record no body hash' % skipped)
    print('%d vectors checked; %d mismatches' % (checked, len(mismatches)))
    return len(mismatches)


if __name__ == '__main__':
    sys.exit(1 if main(sys.argv[1:]) else 0)
