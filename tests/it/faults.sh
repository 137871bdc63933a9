# Shared by t_pull_faults*.sh (sourced after lib.sh, with S and D naming
# the source and target pools): a source tree of two datasets with one
# snapshot, pulled by the zkb user over real ssh, and the helpers that
# watch and interrupt a run.

pool_create $S 512M
pool_create $D 512M
log_must zfs create "$S/big"
log_must zfs create $S/small
dd if=/dev/urandom of=/$S/big/f1 bs=1M count=12 status=none
echo one >/$S/small/f
log_must zfs snapshot -r $S@s1
pull_job $S $D h
T=$D/h/$S
converged() {
	for d in big small; do
		assert_eq "$(guids "$T/$d")" "$(guids "$S/$d")" "snapshots of $d after ${1}"
	done
}
token() { zfs get -H -o value receive_resume_token "$1" 2>/dev/null; }
# wait_for PATTERN: waits for a process matching PATTERN, then until the
# relay's progress line ("X MiB, ..." or "X of Y MiB (P%), ...") shows
# 5 MiB moved after it (the target's partial
# receive is on disk: there is something to resume); prints its pid. The
# size estimate zkeep asks for first (zfs send -n -v -P, gone at once) is not
# the send.
wait_for() {
	local i pid= seen
	for i in $(seq 1 600); do
		pid=$(pgrep -a -f "$1" | grep -v -e ' -n -v -P ' | tail -n 1 | cut -d' ' -f1)
		[ -n "$pid" ] && break
		kill -0 "$zpid" 2>/dev/null ||
			log_fail "the run ended before [$1] was seen: $(cat "$st/out" 2>/dev/null)"
		sleep 0.1
	done
	[ -n "$pid" ] || log_fail "no process matching [$1]; the run said: $(cat "$st/out" 2>/dev/null)"
	seen=$(wc -c <"$st/out")
	for i in $(seq 1 600); do
		# 5 MiB of the 12: several txgs, so the partial receive is on disk
		tail -c +"$seen" "$st/out" | tr '\r' '\n' |
			awk '/ MiB/ { for (f = 1; f < NF; f++)
					if ($(f + 1) == "MiB," || ($(f + 1) == "of" && $(f + 3) == "MiB")) v = $f }
				END { exit !(v >= 5) }' && break
		sleep 0.1
	done
	echo "$pid"
}
kill_when() {
	local pid
	pid=$(wait_for "$1") || exit 1
	kill "$pid"
}
record() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps({d["source"]: d for d in r["datasets"]}[sys.argv[2]]))' "$st/pull-h.json" "$1"; }
