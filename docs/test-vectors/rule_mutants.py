#!/usr/bin/env python3
# Shows that the vectors pin every rule independent_check.py implements: each mutant below disables or loosens one
# rule of PROTOCOL.md in a copy of independent_check.py (a text replacement), and at least one vector must then
# fail (a wrong verdict, wrong intermediate values, or an error). A mutant that survives names a rule no vector
# decides. Not run in the build (one run of the checker per mutant, about 15 s); run it after changing the
# vectors or the checker. A replacement whose text is no longer in the checker is reported as stale.
# Left out on purpose: the count of ';' (section 3.2), which the count of tag-specs implies.
# Usage: python3 docs/test-vectors/rule_mutants.py [docs/test-vectors]
import os, subprocess, sys, tempfile

# label: (old, new), or a list of such replacements made together
MUTANTS = {
    'p range unchecked': ("if not 60 <= h['p'] <= 86400: raise perm()", "pass"),
    'rc range unchecked': ("if not 1 <= h['rc'] <= 10000: raise perm()", "h['rc'] = max(h['rc'], 1)"),
    'non-ascii allowed': [("if any(c > 0x7e for c in s): raise perm()", "pass"),
                          ("    s = s.decode('ascii')", "    s = s.decode('utf-8')"),
                          ("([\\x21-\\x3a\\x3c-\\x7e \\t]|", "([\\x21-\\x3a\\x3c-\\x7e\\u0080-\\uffff \\t]|")],
    'h bound before v': ("    tags = tag_list(field)\n", "    tags = tag_list(field)\n    if tags.get('h', '').count(':') >= MAX_H: raise perm()\n"),
    'field bound after v': [("    if len(field) > MAX_FIELD: raise perm()", "    pass"),
                            ("raise perm('unsupported-version')\n", "raise perm('unsupported-version')\n    if len(field) > MAX_FIELD: raise perm()\n")],
    'tag-spec bound after v': [("    if len(specs) > MAX_TAGS: raise perm()", "    pass"),
                               ("raise perm('unsupported-version')\n", "raise perm('unsupported-version')\n    if len(tags) > MAX_TAGS: raise perm()\n")],
    'first mailbox of a list': ("    toks = author_tokens(value)", "    toks = author_tokens(value.split(',')[0])"),
    'no unassigned check': ("if any(stringprep.in_table_a1(c) for c in label): return None", "pass"),
    'no std3 check': ("                            or prepped.startswith('-') or prepped.endswith('-'): return None", "                            and False: return None"),
    'group read as its mailbox': ("    toks = author_tokens(value)", "    toks = author_tokens(value.split(':')[-1].rstrip(';'))"),
    'mailbox binding unquotes': ("self.mailbox = self.local.lower() + '@' + self.domain if _ else None", "self.mailbox = self.local.strip('\"').split('+')[0].lower() + '@' + self.domain if _ else None"),
    'no field bound': ("if len(field) > MAX_FIELD: raise perm()", "pass"),
    'no tag-spec bound': ("if len(specs) > MAX_TAGS: raise perm()", "pass"),
    'no h bound': ("if hv.count(':') >= MAX_H: raise perm()", "pass"),
    'h bound off by one': ("if hv.count(':') >= MAX_H: raise perm()", "if hv.count(':') > MAX_H: raise perm()"),
    'no header bound': ("if (pos if ended else len(raw)) > max_header: raise perm()", "pass"),
    'header bound excl empty line': ("if (pos if ended else len(raw)) > max_header: raise perm()", "if (pos - 2 if ended else len(raw)) > max_header: raise perm()"),
    'no bare CR': ("if b'\\r' in content: raise perm()", "pass"),
    'no last CR exception': ("if content.endswith(b'\\r'):", "if lf >= 0 and content.endswith(b'\\r'):"),
    'lenient bits': (" or B64.index(v[42]) & 3: raise perm()", ": raise perm()"),
    'h fws anywhere': ("names = [x.strip(' \\t\\r\\n') for x in hv.split(':')]", "names = [re.sub(r'\\s', '', x) for x in hv.split(':')]"),
    'no policy': ("if p != st['periodSeconds']: raise perm('unknown-key')", "pass"),
    'policy before window': ("            if h['t'] - A > st['maxFutureSkewSeconds']: raise fail('future')", "            if p != st['periodSeconds']: raise perm('unknown-key')\n            if h['t'] - A > st['maxFutureSkewSeconds']: raise fail('future')"),
    'unavailable before unknown': ("        if k is None or ('domains' in k", "        if vec['keySource'] == 'unavailable': return ('temperror', 'key-unavailable')\n        if k is None or ('domains' in k"),
    'no domains': ("or ('domains' in k and h['d'] not in k['domains'])", ""),
    'no per-key source': ("k.get('source', vec['keySource'])", "vec['keySource']"),
    'no angle': ("if len(path) >= 2 and path[0] == '<' and path[-1] == '>': path = path[1:-1]", "pass"),
    'r case-sensitive': ("r = h['r'] = scalar(tags, 'r', r'\\S+').lower()", "r = h['r'] = scalar(tags, 'r', r'\\S+')"),
    'no rc': ("elif len(seen) >= (h['rc'] if per_rcpt else 1): v = ('fail', 'replay')", "elif False: pass"),
    'unpadded ok': ("if not re.fullmatch(r'[A-Za-z0-9+/]{43}=', v)", "v = v if len(v) == 44 else v + '='\n    if not re.fullmatch(r'[A-Za-z0-9+/]{43}=', v)"),
    'no u-label author': ("    if d.isascii(): a = d.lower()\n    else:", "    if d.isascii(): a = d.lower()\n    elif True: return None\n    else:"),
    'lenient display name': ("if disp and (disp[0][0] == '.' or any(k not in 'aq.' for k, _, _ in disp)): return None", "pass"),
    'c default simple': ("if 'c' in tags else 'relaxed/relaxed'", "if 'c' in tags else 'simple/simple'"),
    'c single relaxed body': ("if not _: h['bc'] = 'simple'", "if not _: h['bc'] = h['hc']"),
    'p default other': ("if 'p' in tags else 900", "if 'p' in tags else 0"),
    'a case-sensitive': ("scalar(tags, 'a', r'\\S+').lower()", "scalar(tags, 'a', r'\\S+')"),
    'tag names case-insens': ("k = k.strip(' \\t\\r\\n')", "k = k.strip(' \\t\\r\\n').lower()"),
    'a before v': ("    if scalar(tags, 'v', r'\\S+') != '1': raise perm('unsupported-version')\n", "    if 'a' in tags and tags['a'].lower() != 'hmac-sha256': raise perm('unsupported-algorithm')\n    if scalar(tags, 'v', r'\\S+') != '1': raise perm('unsupported-version')\n"),
    'others before v': ("    if scalar(tags, 'v', r'\\S+') != '1': raise perm('unsupported-version')\n", "    if not tags.get('bh'): raise perm()\n    if scalar(tags, 'v', r'\\S+') != '1': raise perm('unsupported-version')\n"),
    'recipient-idn': ("        try: d = '.'.join(idna.ToASCII(x).decode('ascii') for x in d.split('.'))", "        try: raise UnicodeError()"),
    'empty-b only last': ("out.append(k + b'=' if b'=' in seg and k.strip(b' \\t\\r\\n') == b'b' else seg)", "out.append(k + b'=' if seg is v.split(b';')[-1] and k.strip(b' \\t\\r\\n') == b'b' else seg)"),
    'rc default 2': ("if 'rc' in tags else 1", "if 'rc' in tags else 2"),
    'no subaddr': ("if sep and sep in local: local = local[:local.index(sep)]", "pass"),
    'subaddr ignores empty': ("if sep and sep in local:", "if sep in (sep or '+') and (sep or '+') in local: sep = sep or '+';"),
    'no unquote': ("local = re.sub(r'\\\\(.)', r'\\1', local[1:-1])", "pass"),
    'no lower rid': ("        local = local.lower()\n", "\n"),
    'no requote': ("local = '\"' + local.replace", "local = '' + local.replace"),
    'no domain share': ("sum(len(x) for s, x in cache.items() if s[0] == h['d']) >= rc.get('domainCapacity', rc['capacity'])", "False"),
    'no coverage': ("if nm not in IGNORED and nm != own and n > h['h'].count(nm): raise fail('unsigned-header')", "pass"),
    'coverage ignores own always': ("nm not in IGNORED and nm != own", "nm not in IGNORED and nm != own and nm != 'x-auth-hmac'"),
    'coverage presence only': ("n > h['h'].count(nm)", "h['h'].count(nm) == 0"),
    'no from check': ("if '@' not in h['r'] and author != h['d']: raise fail('from-mismatch')", "pass"),
    'from check for mailbox too': ("if '@' not in h['r'] and author != h['d']", "if author != h['d']"),
    'coverage after from': ("            for nm, n in counts.items():", "            if '@' not in h['r'] and author != h['d']: raise fail('from-mismatch')\n            for nm, n in counts.items():"),
    'no idna dots': ("if any(c in d for c in '\\u3002\\uff0e\\uff61'): return None", "d = re.sub('[\\u3002\\uff0e\\uff61]', '.', d)"),
    'no roundtrip': ("if '.'.join(to_unicode(x) for x in a.split('.')).lower() != d.lower(): return None", "pass"),
    'no cfws check in domain': ("and not any(sp for _, _, sp in ts[1:]))", ")"),
    'temperror not first': ("v = next((v for v, _ in verdicts if v[0] == 'temperror'), None) \\\n                or ", "v = "),
    'no share verdicts': ("if key in decided: return decided[key]", "pass"),
    'no continuation-first': ("if not fields: raise perm()", "if not fields: continue"),
    'future skew ignored': ("st['maxFutureSkewSeconds']", "300"),
    'trailing dot kept': ("if d.endswith('.'): d = d[:-1]", "pass"),
    'sv on a domain binding': ("if '@' not in r: raise perm()               # sv= only", "pass  #"),
    'sv any value': ("if sv not in SERVER_VERDICTS: raise perm()", "pass"),
    'sv case-insensitive': ("        if sv not in SERVER_VERDICTS: raise perm()", "        sv = sv.lower()\n        if sv not in SERVER_VERDICTS: raise perm()"),
    'sv whitespace dropped': ("sv, pd = tags.get('sv'), tags.get('pd')", "sv, pd = re.sub(r'\\s', '', tags['sv']) if 'sv' in tags else None, tags.get('pd')"),
    'sv empty as absent': ("sv, pd = tags.get('sv'), tags.get('pd')", "sv, pd = tags.get('sv') or None, tags.get('pd')"),
    'sv=pass without pd': ("if sv == 'pass' and pd is None: raise perm()", "pass"),
    'pd with any sv': ("if pd is not None and sv != 'pass': raise perm()", "if pd is not None and sv is None: raise perm()"),
    'pd without sv': ("if pd is not None and sv != 'pass': raise perm()", "if pd is not None and sv not in (None, 'pass'): raise perm()"),
    'pd any text': ("if not is_domain(pd): raise perm()", "pass"),
    'pd whitespace dropped': ("sv, pd = tags.get('sv'), tags.get('pd')", "sv, pd = tags.get('sv'), re.sub(r'\\s', '', tags['pd']) if 'pd' in tags else None"),
    'sv from the first header': ("shown[g] = (c[1]['sv'], c[1]['pd'])", "shown[g] = (cands[0][1]['sv'], cands[0][1]['pd'])"),
    'pd first word': ("sv, pd = tags.get('sv'), tags.get('pd')", "sv, pd = tags.get('sv'), tags['pd'].split()[0] if 'pd' in tags else None"),
    'pd case-sensitive': ("pd = pd.lower()                             # read", "pass  #"),
    'pd case kept when shown': [("pd = pd.lower()                             # read", "pass  #"), ("if not is_domain(pd): raise perm()", "if not is_domain(pd.lower()): raise perm()")],
    'sv not shown': ("shown[g] = (c[1]['sv'], c[1]['pd'])", "shown[g] = (None, c[1]['pd'])"),
    'pd not shown': ("shown[g] = (c[1]['sv'], c[1]['pd'])", "shown[g] = (c[1]['sv'], None)"),
    'sv shown without a pass': ("if v[0] == 'pass' and '@' in c[1]['r']: shown[g]", "if c[1] and '@' in c[1]['r']: shown[g]"),
}


def main(d):
    checker = os.path.join(d, 'independent_check.py')
    src = open(checker).read()
    survived = stale = 0
    with tempfile.TemporaryDirectory() as tmp:
        for label, edits in MUTANTS.items():
            mutant = src
            for old, new in edits if isinstance(edits, list) else [edits]:
                if old not in mutant:
                    break
                mutant = mutant.replace(old, new, 1)
            else:
                edits = None
            if edits is not None:
                stale += 1
                print('STALE   ', label)
                continue
            path = os.path.join(tmp, 'mutant.py')
            open(path, 'w').write(mutant)
            run = subprocess.run([sys.executable, path, d], capture_output=True, text=True)
            caught = [l for l in run.stdout.splitlines() if l.startswith('MISMATCH')]
            if caught or run.returncode != 0:
                print('caught  ', label, '-', caught[0].split()[1] if caught else 'error')
            else:
                survived += 1
                print('SURVIVED', label)
    print(len(MUTANTS), 'mutants;', survived, 'survived,', stale, 'stale')
    return survived + stale


if __name__ == '__main__':
    sys.exit(1 if main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))) else 0)
