# needs: vm
# cost: 170 (seconds, about: tests/run starts the longest first)
# shellcheck shell=bash
# The README's first command, as CI runs it: `scripts/demo --non-interactive`
# (its own test VM, OpenZFS 2.3) exits 0; the zkeep status it prints shows
# the pulled datasets and the raw push to the offsite pool with a last
# result ok; the gate let the push's command lines through and refused none;
# victoria-metrics had scraped zkeep api's series (the three pools, the
# backups); and afterwards nothing it started is left: no qemu for its VM,
# no victoria-metrics or port-forward process, both ports closed, its run
# dir gone. About 4 minutes on 2 cores under TCG.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. tests/vm/lib.sh
export ZKEEP_DEMO_NAME=zkeep-demo-t$$
d=$(mktemp -d)
trap 'scripts/demo stop >/dev/null 2>&1 || true; rm -rf "$d"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

t0=$SECONDS
rc=0
timeout 540 scripts/demo --non-interactive </dev/null >"$d/out" 2>&1 || rc=$?
out=$(cat "$d/out")
[ $rc -eq 0 ] || fail "scripts/demo exited $rc after $((SECONDS - t0)) s:"$'\n'"$(tail -n 40 "$d/out")"

# status: one line per dataset of each run record, "JOB KIND SOURCE RESULT ..."
has() { grep -Eq "$1" <<<"$out" || fail "no line matching '$1' in the demo's output:"$'\n'"$out"; }
for ds in fastpool/compositions fastpool/compositions/drafts fastpool/acme; do
	has "^client1 +pull +$ds +ok +[0-9-]+ [0-9:]+ .* slowpool/backups/raw/client1/$ds\$"
done
for ds in fastpool/compositions fastpool/compositions/drafts; do
	has "^[a-z0-9.-]+ +push +slowpool/backups/raw/client1/$ds +ok +[0-9-]+ [0-9:]+ .* offsite/backups/raw/client1/$ds\$"
done
grep -Eq '^[a-z0-9.-]+ +(pull|push) .* (failed|error)' <<<"$out" && fail "a backup that did not succeed: $out"
# the push went through the seed's allowlist, and the gate refused nothing
has '^# the gate allowed [1-9][0-9]* command lines and refused 0,'
# raw: the offsite copies are encrypted, their key not loaded there
has '^offsite/backups/raw/client1/fastpool/compositions +aes-256-gcm +unavailable$'

# victoria-metrics scraped the api: the line the demo prints once its
# queries return the series
line=$(grep '^demo: victoria-metrics scraped ' <<<"$out") || fail "no victoria-metrics line: $out"
[[ "$line" =~ scraped\ ([0-9]+)\ series.*pools:\ fastpool\ offsite\ slowpool\;\ backups\ with\ a\ last\ success:\ ([0-9]+)$ ]] ||
	fail "victoria-metrics: $line"
[ "${BASH_REMATCH[1]}" -ge 50 ] || fail "only ${BASH_REMATCH[1]} series scraped: $line"
[ "${BASH_REMATCH[2]}" -eq 5 ] || fail "want 5 backups (3 pulled, 2 pushed) with a last success: $line"

# nothing left running
pids=$(grep '^demo: victoria-metrics pid ' <<<"$out") || fail "the demo did not say its pids"
[[ "$pids" =~ pid\ ([0-9]+)\ on\ (http://127.0.0.1:[0-9]+),\ port\ forward\ pid\ ([0-9]+)\ on\ (http://127.0.0.1:[0-9]+)$ ]] ||
	fail "pids: $pids"
for pid in "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]}"; do
	if kill -0 "$pid" 2>/dev/null && grep -Eq 'victoria-metrics|ssh' "/proc/$pid/cmdline" 2>/dev/null; then
		fail "pid $pid still running: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	fi
done
for url in "${BASH_REMATCH[2]}" "${BASH_REMATCH[4]}"; do
	curl -s -o /dev/null --max-time 3 "$url/" && fail "$url still answers"
done
[ "$(tests/vm/vm status "$ZKEEP_DEMO_NAME")" = stopped ] || fail "VM $ZKEEP_DEMO_NAME still running"
pgrep -f "run/$ZKEEP_DEMO_NAME/overlay" >/dev/null && fail "a qemu for $ZKEEP_DEMO_NAME is left: $(pgrep -af "run/$ZKEEP_DEMO_NAME/")"
[ ! -e "$ZKEEP_CACHE/demo/$ZKEEP_DEMO_NAME" ] || fail "run dir left: $ZKEEP_CACHE/demo/$ZKEEP_DEMO_NAME"
rm -rf "$ZKEEP_CACHE/run/$ZKEEP_DEMO_NAME"
echo "demo: exit 0 in $((SECONDS - t0)) s; 3 pulls and 2 raw pushes ok, ${line#demo: }; everything stopped"
