#!/usr/bin/env bash
# Runs the James-integration unit tests against James 3.8.1 (javax) artifacts; see pom.xml.
# Needs auth-hmac-protocol and auth-hmac-tpm-crypto (+ test-jar) installed in ~/.m2.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work="$here/target/work"
rm -rf "$work" && mkdir -p "$work/src/main/java" "$work/src/test/java"
cp "$here/pom.xml" "$work/pom.xml"
cp -r "$root"/mailets/src/main/java/. "$root"/matchers/src/main/java/. "$work/src/main/java/"
cp -r "$root"/mailets/src/test/java/. "$root"/matchers/src/test/java/. "$work/src/test/java/"
for resources in "$root"/mailets/src/test/resources "$root"/matchers/src/test/resources; do
  if [ -d "$resources" ]; then mkdir -p "$work/src/test/resources" && cp -r "$resources"/. "$work/src/test/resources/"; fi
done
grep -rl 'jakarta\.' "$work/src" | xargs sed -i 's/jakarta\.mail/javax.mail/g; s/jakarta\.inject/javax.inject/g'
cd "$work"
"$root/scripts/mvn" -q -B "$@" test
grep -h "Tests run" target/surefire-reports/*.txt
