#!/usr/bin/env bash
# test/forth.sh: mneme-forth end to end (TAP). Word-set tests in Forth
# (test/forth/*.fs), John Hayes' core tests as shipped in Debian's
# gforth-common (used in place when installed), INCLUDE, error reports
# with file:line, exit status, and Ctrl-C on an endless loop.
set -u
O=${O:-build/hosted}
F=$O/mneme-forth
T=test/forth
fail=0
ok() { echo "ok - $1"; }
no() { echo "not ok - $1"; fail=1; }
[ -x "$F" ] || { no "$F missing"; exit 1; }

out=$("$F" $T/tester.fs $T/wordsets.fs </dev/null 2>&1)
if [[ "$out" == *"ok - all"* && "$out" != *"not ok"* ]]; then ok "word sets ($T/wordsets.fs)"
else no "word sets: $out"; fi

# One file per optional word set (test/forth/<set>.fs), each ending in TESTS-DONE.
for set in search tools string locals float facility; do
  out=$("$F" $T/tester.fs $T/$set.fs </dev/null 2>&1)
  if [[ "$out" == *"ok - all"* && "$out" != *"not ok"* && "$out" != *THROW* ]]; then ok "word set $set ($T/$set.fs)"
  else no "word set $set: $(echo "$out" | grep -E 'not ok|THROW' | head -5)"; fi
done

# File-Access and Block on host files, in a scratch directory.
scratch=$(mktemp -d)
fa=$(realpath "$F") ta=$(realpath "$T")
for set in file block; do
  out=$(cd "$scratch" && "$fa" "$ta/tester.fs" "$ta/$set.fs" </dev/null 2>&1)
  if [[ "$out" == *"ok - all"* && "$out" != *"not ok"* && "$out" != *THROW* ]]; then ok "word set $set ($T/$set.fs)"
  else no "word set $set: $(echo "$out" | grep -E 'not ok|THROW' | head -5)"; fi
done
left=$(ls -A "$scratch")
rm -rf "$scratch"
[ -z "$left" ] && ok "file and block tests leave no files behind" || no "left behind: $left"

# SEE gives source for every kind of word.
out=$(printf '%s\n' ': s1 1 2 + IF ." yes" ELSE 3 THEN 0 DO I . LOOP ; IMMEDIATE' \
  'VARIABLE s2 5 s2 !' '7 CONSTANT s3' '1 2 2CONSTANT s4' '3 VALUE s5' 'DEFER s6' "' s1 IS s6" \
  ': mk CREATE , DOES> @ 1+ ;' '9 mk s7' 'MARKER s8' '2.5E FCONSTANT s9' ': s10 {: a :} a ;' \
  'SEE s1 SEE s2 SEE s3 SEE s4 SEE s5 SEE s6 SEE s7 SEE s8 SEE DUP SEE EMIT SEE s9 SEE s10' | "$F" 2>&1)
seen=1
for want in ': s1' '." yes"' 'IMMEDIATE' 'VARIABLE s2  ( holds 5 )' '7 CONSTANT s3' '1 2 2CONSTANT s4' \
    '3 VALUE s5' "DEFER s6  ' s1 IS s6" 'CREATE s7' 'DOES>' '@ 1+' 'MARKER s8' 'CODE DUP' 'CODE EMIT' \
    '2.5000000000000000E0 FCONSTANT s9' '(locals) 1 (local0) (unlocals) 1'; do
  [[ "$out" == *"$want"* ]] || { no "SEE: missing [$want] in: $out"; seen=0; }
done
[ $seen = 1 ] && ok "SEE decompiles every kind of word"

# EKEY decodes the escape sequences of keys; AT-XY and PAGE send ANSI sequences.
out=$(printf 'EKEY . EKEY K-UP = . EKEY K-DELETE = . EKEY K-UP K-CTRL-MASK OR = . EKEY K-F5 = . EKEY .\nA\033[A\033[3~\033[1;5A\033[15~z' | "$F" 2>&1)
[ "$out" = "65 -1 -1 -1 -1 122 " ] && ok "EKEY key events" || no "EKEY: [$out]"
out=$(echo '3 4 AT-XY PAGE' | "$F" 2>&1 | od -An -c | tr -d ' \n')
[ "$out" = '033[5;4H033[2J033[H' ] && ok "AT-XY PAGE" || no "AT-XY PAGE: [$out]"

# Float output, as gforth prints it.
out=$(echo '1E F. 1.5E F. 0.1E F. 1E20 F. 1E-5 F. -2.5E F. 0E F. 1E 3E F/ F. 1234E FE. 0.0001234E FE. 1234E FS. -1E-10 FS. 1E 0E F/ F. 5 SET-PRECISION 3.14159E F. 123456789E F.' | "$F" 2>&1)
want='1. 1.5 0.1 100000000000000000000. 0.00001 -2.5 0. 0.333333333333333 1.23400000000000E3 123.400000000000E-6 1.23400000000000E3 -1.00000000000000E-10 inf 3.1416 123460000. '
[ "$out" = "$want" ] && ok "F. FE. FS. print as gforth does" || no "float output: [$out]"

G=/usr/share/gforth/0.7.3/test
# gforth's own test files of the optional word sets, used in place with
# gforth's tester (ttester.fs) and a test-only REQUIRE (test/forth/require.fs).
if [ -f $G/float.fs ]; then
  for t in search float string deferred dbltest; do
    out=$(echo "S\" $G/tester.fs\" REQUIRED S\" $G/$t.fs\" INCLUDED" | "$F" $T/require.fs 2>&1)
    if [[ "$out" != *INCORRECT* && "$out" != *WRONG* && "$out" != *THROW* ]]; then ok "gforth $t.fs"
    else no "gforth $t.fs: $(echo "$out" | grep -E 'INCORRECT|WRONG|THROW' | head -5)"; fi
  done
fi
# gforth's checkans.fs lists the missing words of each ANS word set: only
# the CORE-EXT words Forth 2012 removed may be missing.
if [ -f $G/checkans.fs ]; then
  out=$(echo "S\" $G/checkans.fs\" INCLUDED" | "$F" 2>&1)
  bad=$(awk '/^Checking/ { set = $2 } /Missing:/ { m = 1 } /^$/ { m = 0 }
    m && set != "CORE-EXT" { print set ": " $0 }
    m && set == "CORE-EXT" { for (i = 1; i <= NF; i++) if ($i !~ /^(Missing:|#TIB|CONVERT|EXPECT|QUERY|SPAN|TIB)$/) print set ": " $i }' <<<"$out")
  if [ -z "$bad" ] && [[ "$out" == *"FLOAT-EXT           complete"* && "$out" == *"FILE-EXT            complete"* && "$out" == *"BLOCK-EXT           complete"* ]]; then ok "gforth checkans.fs: every word set complete"
  else no "checkans.fs: $bad"; fi
fi
if [ -f $G/coretest.fs ]; then
  out=$(echo TESTS-DONE | "$F" $T/tester.fs $G/coretest.fs 2>&1)
  if [[ "$out" == *"ok - all"* && "$out" != *"not ok"* && "$out" != *THROW* ]]; then
    ok "Hayes core tests (coretest.fs)"
  else no "Hayes core tests: $(echo "$out" | grep -E 'not ok|THROW' | head -5)"; fi
  out=$(echo TESTS-DONE | "$F" $T/tester.fs $G/coreext.fs 2>&1)
  if [[ "$out" == *"ok - all"* ]]; then ok "gforth coreext.fs"; else no "coreext.fs: $out"; fi
else
  ok "# SKIP gforth-common test files not installed"
fi

out=$(echo 'S" '$T'/include_me.fs" INCLUDED INCLUDED-VALUE . INCLUDE '$T'/include_me.fs' | "$F" 2>&1)
[ "$out" = "1234 " ] && ok "INCLUDED and INCLUDE" || no "INCLUDED: [$out]"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '1 .\n: x nosuch ;\n2 .\n' > "$tmp/bad.fs"
out=$("$F" "$tmp/bad.fs" </dev/null 2>&1); rc=$?
if [[ "$out" == *"bad.fs:2: nosuch: undefined word (THROW -13)"* && $rc -eq 1 ]]; then
  ok "error names file, line and word; exit status 1"
else no "error report: rc $rc [$out]"; fi

out=$(printf '1 2 +\n. bye\n3 .\n' | "$F" 2>&1); rc=$?
[ "$out" = "3 " ] && [ $rc -eq 0 ] && ok "BYE ends the program" || no "BYE: rc $rc [$out]"

out=$(printf ': x BEGIN AGAIN ; x\n7 .\n' | timeout -s INT -k 5 1 "$F" 2>&1); rc=$?
if [[ "$out" == *"user interrupt (THROW -28)"* && "$out" == *"7 "* ]]; then
  ok "Ctrl-C interrupts an endless loop, the next line runs"
else no "Ctrl-C: rc $rc [$out]"; fi

head -c 3000 /dev/zero | tr '\0' 'x' > "$tmp/long.fs"; printf '\n5 .\n' >> "$tmp/long.fs"
out=$("$F" "$tmp/long.fs" </dev/null 2>&1)
[[ "$out" == *"input line too long"* ]] && ok "overlong line in a file" || no "long line: [$out]"

printf '\xff\xfe .\n' > "$tmp/bin.fs"
out=$("$F" "$tmp/bin.fs" </dev/null 2>&1)
[[ "$out" == *"not valid UTF-8"* ]] && ok "non-UTF-8 file" || no "utf8: [$out]"

printf '( a comment\nover lines ) 1 .\n' > "$tmp/paren.fs"
out=$("$F" "$tmp/paren.fs" </dev/null 2>&1)
[ "$out" = "1 " ] && ok "( comments span lines in files" || no "paren: [$out]"

long=$tmp/$(printf 'd%.0s' $(seq 1 200))
mkdir -p "$long"; printf '1 .\nnosuch\n' > "$long/x.fs"
out=$("$F" "$long/x.fs" </dev/null 2>&1)
[[ "$out" == *"x.fs:2: nosuch: undefined word"* ]] && ok "error in a file with a long path" || no "long path: [$out]"

out=$("$F" /nonexistent.fs </dev/null 2>&1)
[[ "$out" == *"/nonexistent.fs: non-existent file (THROW -38)"* ]] && ok "missing file" || no "missing file: [$out]"
# On a terminal: line editor, history, Ctrl-C on a running word, Ctrl-D.
out=$(python3 - "$F" <<'PY' 2>&1
import os, pty, select, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1]])
def rd(t=1.0, want=None):
    out = b''; end = time.time() + t
    while time.time() < end and not (want and want in out):
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try: out += os.read(fd, 4096)
            except OSError: break
    return out
os.write(fd, b'1 2 +\x7f- .\r'); a = rd(5, b'ok')
os.write(fd, b'\x1b[A\r'); b = rd(5, b'ok')
os.write(fd, b': x begin again ; x\r'); rd(5, b'again ; x')  # echoed: the line is in
os.kill(pid, signal.SIGINT)
c = rd(5, b'THROW')
os.write(fd, b'\x04')
end = time.time() + 10
while True:  # Ctrl-D ends it; a hang is reported, not waited out
    done, st = os.waitpid(pid, os.WNOHANG)
    if done or time.time() > end:
        break
    rd(0.1)
if not done:
    os.kill(pid, signal.SIGKILL); _, st = os.waitpid(pid, 0)
print('edit' if b'-1  ok' in a else 'no-edit:%r' % a)
print('history' if b'1 2 - .' in b and b'-1  ok' in b else 'no-history:%r' % b)
print('interrupt' if b'user interrupt (THROW -28)' in c else 'no-interrupt:%r' % c)
print('exit%d' % os.waitstatus_to_exitcode(st))
PY
)
for w in edit history interrupt exit0; do
  if grep -qx "$w" <<<"$out"; then ok "terminal: $w"; else no "terminal: $w: $out"; fi
done
exit $fail
