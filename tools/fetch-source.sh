#!/usr/bin/env bash
# fetch-source.sh: fetches a third-party C library's Debian source package
# at build time, checks it against the sha256 sums pinned in the tree and
# unpacks it. Sources are never committed; this is the one way in.
#
#   tools/fetch-source.sh NAME          (e.g. lwip)
#
# NAME's pinned version and files are in tools/sources.lock, lines of
#   NAME VERSION SHA256 FILE
# (one line per file of the source package: the .dsc and its tarballs).
# The result is build/src/NAME-VERSION/ (the unpacked tree) with a
# .fetched stamp; the downloaded files stay in build/src/dl/. A second
# run finds the stamp and does nothing.
#
# apt runs with a private state under build/apt/: its own sources.list
# (deb-src lines mirroring the Debian suites this machine's apt uses), its
# own lists, cache and state directories. Nothing under /etc or /var is
# written. It needs apt-get and dpkg-source (Debian's dpkg-dev).
set -eu
cd "$(dirname "$0")/.."
name=${1:?usage: tools/fetch-source.sh NAME}
lock=tools/sources.lock
root=$PWD/build
dl=$root/src/dl
apt=$root/apt

die() {
  echo "fetch-source: $name: $*" >&2
  exit 1
}

lines=$(awk -v n="$name" '$1 == n' "$lock")
[ -n "$lines" ] || die "not pinned in $lock (add NAME VERSION SHA256 FILE lines)"
version=$(echo "$lines" | awk 'NR == 1 { print $2 }')
upstream=${version%-*}         # 2.1.3+dfsg1-2 -> 2.1.3+dfsg1
upstream=${upstream#*:}
dest=$root/src/$name-$version
[ -f "$dest/.fetched" ] && exit 0

command -v apt-get >/dev/null || die "apt-get is missing (this script needs a Debian machine)"
command -v dpkg-source >/dev/null || die "dpkg-source is missing: install dpkg-dev (make deps)"

# Checks every pinned file in $dl; prints the first bad one.
check() {
  echo "$lines" | while read -r _ _ sum file; do
    [ -f "$dl/$file" ] || { echo "$file is missing"; return; }
    got=$(sha256sum "$dl/$file" | cut -d' ' -f1)
    [ "$got" = "$sum" ] || { echo "$file: sha256 $got, pinned $sum"; return; }
  done
}

mkdir -p "$dl"
if [ -n "$(check)" ]; then
  # The private apt: deb-src lines for the suites of the machine's own
  # deb lines (one-line sources.list and deb822 .sources files).
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts" "$apt/prefs"
  {
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { $1 = "deb-src"; print }'
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk 'BEGIN { RS = ""; FS = "\n" }
           {
             types = ""; uris = ""; suites = ""; comps = ""; signed = ""
             for (i = 1; i <= NF; i++) {
               line = $i
               if (line ~ /^#/) continue
               k = line; sub(/:.*/, "", k); v = line; sub(/^[^:]*:[ \t]*/, "", v)
               if (k == "Types") types = v
               else if (k == "URIs") uris = v
               else if (k == "Suites") suites = v
               else if (k == "Components") comps = v
               else if (k == "Signed-By") signed = v
               else if (k == "Enabled" && v == "no") types = ""
             }
             if (types !~ /(^| )deb( |$)/ || uris == "") next
             print "Types: deb-src\nURIs: " uris "\nSuites: " suites "\nComponents: " comps
             if (signed != "") print "Signed-By: " signed
             print ""
           }' "$f"
    done
  } > "$apt/sources.list.tmp"
  # deb822 stanzas need a .sources file; the one-line ones stay in sources.list.
  grep '^deb-src ' "$apt/sources.list.tmp" > "$apt/sources.list" || true
  grep -v '^deb-src ' "$apt/sources.list.tmp" > "$apt/parts/machine.sources" || true
  rm -f "$apt/sources.list.tmp"
  [ -s "$apt/sources.list" ] || [ -s "$apt/parts/machine.sources" ] ||
    die "no Debian suites found in /etc/apt to mirror as deb-src"
  opts=(-o "Dir::Etc::SourceList=$apt/sources.list"
        -o "Dir::Etc::SourceParts=$apt/parts"
        -o "Dir::Etc::Preferences=$apt/prefs/none"
        -o "Dir::Etc::PreferencesParts=$apt/prefs"
        -o "Dir::State=$apt"
        -o "Dir::State::Lists=$apt/lists"
        -o "Dir::State::status=/dev/null"
        -o "Dir::Cache=$apt/cache"
        -o "Dir::Cache::archives=$apt/cache/archives"
        -o "Debug::NoLocking=1"
        -o "APT::Sandbox::User=root")
  echo "fetch-source: $name $version: apt-get update (private state in build/apt)" >&2
  if ! apt-get "${opts[@]}" -qq update >"$apt/update.log" 2>&1 ||
     grep -q '^\(W\|E\): Failed to fetch' "$apt/update.log"; then
    sed 's/^/  /' "$apt/update.log" >&2
    die "cannot reach Debian's package archive (see above). The build needs the network
  once to fetch this library's source; connect, then run make again."
  fi
  echo "fetch-source: $name $version: apt-get source" >&2
  if ! (cd "$dl" && apt-get "${opts[@]}" -qq --download-only source "$name=$version") \
       >"$apt/source.log" 2>&1; then
    sed 's/^/  /' "$apt/source.log" >&2
    die "apt-get source $name=$version failed (see above): no network, or Debian
  no longer carries this version (then pin a new one in $lock)."
  fi
  bad=$(check)
  if [ -n "$bad" ]; then
    die "checksum mismatch: $bad.
  The downloaded source is not the one pinned in $lock: do not build with
  it. If Debian really published a new file, review it and update the pin."
  fi
fi

dsc=$(echo "$lines" | awk '$4 ~ /\.dsc$/ { print $4 }')
rm -rf "$dest.tmp"
dpkg-source --skip-patches --no-check -x "$dl/$dsc" "$dest.tmp" >"$dl/$name.unpack.log" 2>&1 ||
  { cat "$dl/$name.unpack.log" >&2; die "dpkg-source -x failed"; }
rm -rf "$dest"
mv "$dest.tmp" "$dest"
touch "$dest/.fetched"
echo "fetch-source: $name $version in ${dest#$PWD/}" >&2
