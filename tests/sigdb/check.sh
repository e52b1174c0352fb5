#!/bin/sh
# check.sh - prove that a generated database matches nothing real: every
# file of tests/samples, the files a test builds (EICAR, the marker, both
# zipped) and the project's own sources are scanned by clamscan (a tool we
# did not write) with --allmatch, once with sigs/ alone and once with
# sigs/ plus the generated database; the two reports must be identical.
#
# Usage: tests/sigdb/check.sh GENDIR
# Ends with "N passed, N failed" (one check per scanned file).
set -eu
REPO=$(cd "$(dirname "$0")/../.." && pwd)
GEN=${1:?usage: check.sh GENDIR}
[ -f "$GEN/mwgen.about" ] || { echo "check.sh: $GEN has no mwgen.about (tests/sigdb/gen.py OUTDIR)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/mw-sigdb-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

mkdir -p "$WORK/files"
cp "$REPO"/tests/samples/* "$WORK/files/"
# EICAR and the marker, assembled at run time as the tests do
python3 - "$WORK/files" <<'PY'
import io, os, sys, zipfile
d = sys.argv[1]
eicar = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()
marker = ("MAILWARDEN-TEST-" + "MARKER-7f3a9c1e").encode()
for name, data in (("eicar.com", eicar), ("marker.txt", b"x " + marker + b" y\n")):
    open(os.path.join(d, name), "wb").write(data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    open(os.path.join(d, name + ".zip"), "wb").write(buf.getvalue())
PY
# real files of many kinds: our sources and binaries, the system's
cp -r "$REPO/src" "$WORK/files/src"
for f in /bin/ls /usr/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/aarch64-linux-gnu/libc.so.6 /etc/services; do
	[ -f "$f" ] && cp "$f" "$WORK/files/" 2>/dev/null || true
done

scan() { # scan OUT DB...
	out=$1
	shift
	args=""
	for d in "$@"; do args="$args -d $d"; done
	# shellcheck disable=SC2086
	clamscan --no-summary --allmatch -r $args "$WORK/files" 2>/dev/null | sed "s|$WORK/files/||" | sort >"$out" || true
}
scan "$WORK/base.txt" "$REPO/sigs"
scan "$WORK/gen.txt" "$REPO/sigs" "$GEN"
pass=0
fail=0
while IFS= read -r line; do
	f=${line%%: *}
	if grep -qxF -- "$line" "$WORK/gen.txt"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "DIFFERS: $f: sigs/ alone: ${line#*: }; with $GEN: $(grep -F -- "$f: " "$WORK/gen.txt" | tr '\n' ' ')"
	fi
done <"$WORK/base.txt"
extra=$(comm -13 "$WORK/base.txt" "$WORK/gen.txt" | wc -l)
if [ "$extra" != 0 ]; then
	fail=$((fail + extra))
	comm -13 "$WORK/base.txt" "$WORK/gen.txt" | sed 's/^/EXTRA MATCH: /'
fi
grep -Eq 'eicar.com: Mailwarden.Test.EICAR(.UNOFFICIAL)? FOUND' "$WORK/gen.txt" || { fail=$((fail + 1)); echo "EICAR not found with $GEN"; }
grep -Eq 'marker.txt: Mailwarden.Test.Marker(.UNOFFICIAL)? FOUND' "$WORK/gen.txt" || { fail=$((fail + 1)); echo "marker not found with $GEN"; }
echo "check.sh: $(wc -l <"$WORK/base.txt") files scanned with sigs/ and with $GEN ($(grep -c FOUND "$WORK/gen.txt") detections, all from sigs/)"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
