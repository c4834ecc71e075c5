#!/usr/bin/env python3
"""Reads From field values with Python's email package, as a third reader independent of the JVM's.

Input: one JSON string per line (the field value, folded as in the message). Output: one line per input,
"<single>|<domains>": <single> is the domain of the one address email.headerregistry reads (policy.default),
"-" when it reads none or several; <domains> every domain either reader finds (headerregistry, and
email.utils.getaddresses), space separated. Domains are hex-encoded UTF-8. Standard library only.
"""
import json
import sys
from email import policy
from email.utils import getaddresses


def hexed(s):
    return s.encode('utf-8', 'surrogatepass').hex()


def domain_of(username, domain):
    if domain:
        return domain
    # an encoded word in the local part can decode to "ceo@a.example"; a mail client shows it so
    return username.rpartition('@')[2] if '@' in username else ''


def read(raw):
    # what email.policy.default does with a header it parsed from a message: the line breaks removed
    value = ''.join(raw.splitlines())
    single = '-'
    found = []
    try:
        addresses = policy.default.header_factory('From', value).addresses
        for a in addresses:
            d = domain_of(a.username, a.domain)
            if d:
                found.append(d)
        if len(addresses) == 1 and addresses[0].domain:
            single = hexed(addresses[0].domain)
    except Exception:
        pass
    try:
        for _name, addr in getaddresses([value]):
            if '@' in addr:
                found.append(addr.rpartition('@')[2])
    except Exception:
        pass
    return single + '|' + ' '.join(hexed(d) for d in found)


def main():
    out = sys.stdout
    for line in sys.stdin:
        if line.strip():
            out.write(read(json.loads(line)) + '\n')
    out.flush()


if __name__ == '__main__':
    main()
