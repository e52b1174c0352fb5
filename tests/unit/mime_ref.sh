#!/bin/sh
# NAME
#	mime_ref.sh - run mimedump on each sample and diff against its .ref
# SYNOPSIS
#	sh tests/unit/mime_ref.sh BUILD_DIR
# DESCRIPTION
#	For each tests/samples/NAME.eml that has tests/unit/mime/NAME.ref,
#	runs BUILD_DIR/tools/mimedump four ways - whole file, 1-byte feeds,
#	7-byte feeds with every part spilled to disk (-m 0), and 4096-byte
#	feeds - and diffs each output against the .ref (they must all be the
#	same: feeding and spilling must not change the result).  Samples
#	without a .ref belong to other modules and are skipped.
#	To accept new output after a deliberate change:
#	    BUILD_DIR/tools/mimedump tests/samples/NAME.eml > tests/unit/mime/NAME.ref
# DIAGNOSTICS
#	Prints "N passed, N failed"; exits 1 if any failed.
# LICENSE
#	GPL-2.0-or-later
B=${1:?usage: mime_ref.sh BUILD_DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
dump="$B/tools/mimedump"
[ -x "$dump" ] || { echo "mime_ref.sh: $dump not built" >&2; exit 2; }
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
for eml in "$top"/tests/samples/*.eml; do
	name=$(basename "$eml" .eml)
	ref="$top/tests/unit/mime/$name.ref"
	[ -f "$ref" ] || continue
	ok=1
	for mode in "" "-b 1" "-b 7 -m 0" "-b 4096"; do
		# shellcheck disable=SC2086
		if ! "$dump" $mode "$eml" >"$tmp/out" 2>"$tmp/err"; then
			echo "FAIL $name ($mode): mimedump exited non-zero"
			cat "$tmp/err"
			ok=0
			break
		fi
		if ! diff -u "$ref" "$tmp/out" >"$tmp/diff"; then
			echo "FAIL $name (${mode:-whole})"
			head -40 "$tmp/diff"
			ok=0
			break
		fi
	done
	if [ $ok = 1 ]; then
		echo "ok   $name"
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
