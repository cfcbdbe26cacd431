#!/usr/bin/env bash
# fetch_source_test.sh: tools/fetch-source.sh without the network. A copy
# of the script runs in a scratch tree with a fake apt-get first in PATH
# and http-parser's pin (its files come from this tree's build/src/dl,
# where the build fetched them). TAP lines.
#   - the pinned files already downloaded: apt is not called, the source
#     is unpacked and stamped;
#   - a download whose sha256 is not the pinned one: the script stops,
#     says "checksum mismatch", nothing is unpacked;
#   - apt cannot reach the archive: the script stops and says what to do.
set -u
cd "$(dirname "$0")/.."
src=$PWD/build/src/dl
lines=$(awk '$1 == "http-parser"' tools/sources.lock)
files=$(echo "$lines" | awk '{ print $4 }')
for f in $files; do
  if [ ! -f "$src/$f" ]; then
    echo "ok - fetch-source # SKIP $src/$f not fetched yet (make builds it)"
    exit 0
  fi
done
command -v dpkg-source >/dev/null || { echo "ok - fetch-source # SKIP no dpkg-source (dpkg-dev)"; exit 0; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tree/tools" "$tmp/bin" "$tmp/orig"
cp tools/fetch-source.sh "$tmp/tree/tools/"
echo "$lines" > "$tmp/tree/tools/sources.lock"
for f in $files; do cp "$src/$f" "$tmp/orig/"; done
# The fake apt-get: FAKE_APT=called (records the call and fails), tamper
# (update works; source "downloads" the files with one byte added to the
# tarball), offline (update fails as apt does without a network).
cat > "$tmp/bin/apt-get" <<'EOF'
#!/bin/sh
echo "$*" >> "$FAKE_DIR/apt-calls"
case $FAKE_APT in
  called) exit 1 ;;
  offline)
    echo "E: Failed to fetch http://deb.debian.org/debian/dists/x/InRelease  Temporary failure resolving 'deb.debian.org'"
    exit 100 ;;
  tamper)
    for a in "$@"; do [ "$a" = source ] && { cp "$FAKE_DIR"/orig/* . && printf x >> "$(ls ./*.orig.tar.* | head -n 1)"; exit 0; }; done
    exit 0 ;;
esac
exit 1
EOF
chmod +x "$tmp/bin/apt-get"
export FAKE_DIR=$tmp PATH="$tmp/bin:$PATH"
dest=$tmp/tree/build/src/http-parser-$(echo "$lines" | awk 'NR == 1 { print $2 }')
fails=0
check() {
  if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fails=$((fails + 1)); sed 's/^/#   /' "$tmp/err" | tail -8; fi
}

mkdir -p "$tmp/tree/build/src/dl"
cp "$tmp/orig/"* "$tmp/tree/build/src/dl/"
FAKE_APT=called "$tmp/tree/tools/fetch-source.sh" http-parser 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && [ -f "$dest/.fetched" ] && [ -f "$dest/http_parser.c" ] && [ ! -e "$tmp/apt-calls" ]
check $? "fetch-source: pinned files already downloaded: unpacked without apt"

rm -rf "$tmp/tree/build" "$tmp/apt-calls"
FAKE_APT=tamper "$tmp/tree/tools/fetch-source.sh" http-parser 2>"$tmp/err"
rc=$?
[ $rc != 0 ] && grep -q "checksum mismatch: http-parser_.*orig.tar.gz: sha256 .*, pinned" "$tmp/err" &&
  grep -q "source" "$tmp/apt-calls" && [ ! -e "$dest" ]
check $? "fetch-source: a download that is not the pinned one stops the build (checksum mismatch)"

rm -rf "$tmp/tree/build" "$tmp/apt-calls"
FAKE_APT=offline "$tmp/tree/tools/fetch-source.sh" http-parser 2>"$tmp/err"
rc=$?
[ $rc != 0 ] && grep -q "cannot reach Debian's package archive" "$tmp/err" &&
  grep -q "connect, then run make again" "$tmp/err" && [ ! -e "$dest" ]
check $? "fetch-source: no network stops the build with what to do"
exit $((fails > 0))
