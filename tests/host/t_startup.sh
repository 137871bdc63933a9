# What every exec of zkeep pays (cron, the gate behind each ssh command,
# the api's collector): only the small libraries are linked; libcurl,
# libcrypto, libmosquitto and libmicrohttpd are loaded on first use
# (lib/dl.h). Linking any of them again brings back some 30 shared
# libraries and about 12 million instructions per exec (under emulation,
# tens of milliseconds per command), so a new NEEDED entry fails here.
set -euo pipefail
b=${ZKEEP_BUILD:-build}/zkeep
# (the sanitizers' runtimes and libm, in a sanitizer build, are not counted)
needed=$(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
	grep -Ev '^lib(asan|ubsan|m)\.so' | sort | tr '\n' ' ')
want="libc.so.6 libinih.so.1 libjansson.so.4 libz.so.1 "
[ "$needed" = "$want" ] || { echo "FAIL: zkeep links [$needed], want [$want]"; exit 1; }
# and the features still load what they need: a history_url is checked
# with libcurl at config load, so a bad one is refused by libcurl's parser
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
printf '[api]\nhistory_url = http://[::1\n' >"$d/zkeep.conf"
out=$("$b" status --config "$d/zkeep.conf" 2>&1) && { echo "FAIL: status took a bad history_url"; exit 1; }
grep -q "history_url 'http://\[::1'" <<<"$out" || { echo "FAIL: no history_url error: $out"; exit 1; }
grep -q "cannot load" <<<"$out" && { echo "FAIL: libcurl did not load: $out"; exit 1; }
echo "PASS"
