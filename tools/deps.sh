#!/usr/bin/env bash
# Installs the Debian packages the build, tests and benchmarks need, as
# listed one per line in every `packages.txt` of the tree. Installs only
# what is missing; needs root (or sudo) when something is.
set -eu
cd "$(dirname "$0")/.."
want=$(cat $(find . -name packages.txt -not -path './build/*') | sed 's/#.*//' | tr -s ' \n' '\n' | sort -u | grep -v '^$')
# Virtual packages that installed packages provide count as present (a
# nodejs from another repository may bundle npm and conflict with Debian's).
provided=" $(dpkg-query -W -f='${Status} ${Provides}\n' 2>/dev/null | grep '^install ok installed' |
             sed 's/^install ok installed//; s/([^)]*)//g; s/,/ /g' | tr -s ' \n' ' ') "
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
  case "$provided" in *" $p "*) continue ;; esac
  missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
