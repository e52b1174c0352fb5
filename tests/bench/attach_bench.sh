#!/bin/sh
# NAME
#	attach_bench.sh - archive unpacking cost of the attach stage
# SYNOPSIS
#	sh tests/bench/attach_bench.sh [SIZES_MB...]	(default: 4 16 64)
# DESCRIPTION
#	Builds tests/bench/attach_bench.c against $BUILD_DIR/libmw.a, makes
#	for each size a text payload (random words: packs about 3:1), then
#	  nested.zip   zip in zip in zip holding the payload
#	  payload.lzh  the payload in LZH (-lh5-, jlha)
#	  lzh.zip      that LZH inside a zip
#	and reports for each: expanded MB, ms, MB/s and peak RSS, without and
#	with ClamAV scanning the members (sigs/).  Then the true-type table
#	against libmagic.  One process per measurement, so peak RSS is per
#	archive.  Needs jlha (jlha-utils) for the LZH rows.
# ENVIRONMENT
#	BUILD_DIR (default build), WORK (default a temporary directory).
# LICENSE
#	GPL-2.0-or-later
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
B=${BUILD_DIR:-build}
sizes=${*:-4 16 64}
work=${WORK:-$(mktemp -d /tmp/mw-attach-bench.XXXXXX)}
trap 'rm -rf "$work"' EXIT
[ -f "$B/libmw.a" ] || { echo "attach_bench: build $B/libmw.a first (make)" >&2; exit 2; }
# shellcheck disable=SC2046
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -o "$work/attach_bench" tests/bench/attach_bench.c "$B/libmw.a" \
	$(pkg-config --libs libclamav inih sqlite3 libpsl libarchive 2>/dev/null) -lmagic -lpthread
bench="$work/attach_bench"

for mb in $sizes; do
	d="$work/$mb"
	mkdir -p "$d"
	python3 - "$d" "$mb" <<'PY'
import io, os, random, sys, zipfile
d, mb = sys.argv[1], int(sys.argv[2])
random.seed(mb)
words = [("%x" % random.getrandbits(24)) for _ in range(4096)]
buf, n = [], 0
while n < mb << 20:
    line = " ".join(random.choice(words) for _ in range(12)) + "\n"
    buf.append(line); n += len(line)
data = "".join(buf).encode()[: mb << 20]
open(os.path.join(d, "payload.txt"), "wb").write(data)
def z(name, payload, comp=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", comp) as f:
        f.writestr(name, payload)
    return b.getvalue()
inner = z("payload.txt", data)
open(os.path.join(d, "nested.zip"), "wb").write(z("b.zip", z("a.zip", inner, zipfile.ZIP_STORED), zipfile.ZIP_STORED))
PY
	if command -v jlha >/dev/null 2>&1; then
		(cd "$d" && jlha a payload.lzh payload.txt >/dev/null 2>&1)
		python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]+'/lzh.zip','w',zipfile.ZIP_STORED); z.write(sys.argv[1]+'/payload.lzh','docs/payload.lzh'); z.close()" "$d"
	fi
	echo "== ${mb} MB expanded"
	for f in nested.zip payload.lzh lzh.zip; do
		[ -f "$d/$f" ] || continue
		for av in "" sigs; do
			line=$("$bench" walk "$d/$f" "$f" $av)
			ms=$(echo "$line" | sed -n 's/.* \([0-9.]*\) ms .*/\1/p')
			echo "$line" | awk -v mb="$mb" -v ms="$ms" '{printf "%s  %7.1f MB/s\n", $0, (ms > 0 ? mb * 1000 / ms : 0)}'
		done
	done
done
echo "== true type: table vs libmagic"
"$bench" types "$work"/*/nested.zip "$work"/*/payload.lzh /bin/ls "$top"/tests/samples/attach-fixtures.py 2>/dev/null | tail -n 8
