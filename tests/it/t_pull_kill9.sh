# kill -9 of zkeep pull at 10 random points of a multi-dataset pull over
# real ssh: after each, the next run converges to a complete, consistent
# target (every dataset's snapshots, guid for guid, as on the source) and
# no lock is left held.
# zkeep-it: once
# zkeep-it: flavour 2.3
. ./lib.sh

pool_create zksrc 512M
pool_create zkdst 512M
for d in a b; do
	log_must zfs create "zksrc/$d"
	dd if=/dev/urandom of="/zksrc/$d/f" bs=1M count=4 status=none
done
log_must zfs snapshot -r zksrc@k0
pull_job zksrc zkdst k

# the random points: seeded, so a failure can be replayed
seed=${ZKEEP_SEED:-$RANDOM}
log_note "seed $seed"
RANDOM=$seed
for i in $(seq 1 10); do
	# new data and a new snapshot each round, so every run has work
	for d in a b; do
		dd if=/dev/urandom of="/zksrc/$d/f$i" bs=1M count=2 status=none
	done
	log_must zfs snapshot -r "zksrc@k$i"
	"${PULL[@]}" --bwlimit 2M >"$st/out.$i" 2>&1 &
	zpid=$!
	ms=$((RANDOM % 6000 + 200))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 $zpid 2>/dev/null
	wait $zpid 2>/dev/null
	# its zfs receive sees the stream end and gives up on its own
	for _ in $(seq 1 300); do
		pgrep -f "^zfs (receive|recv)" >/dev/null || break
		sleep 0.1
	done
	out=$("${PULL[@]}" 2>&1) || log_fail "round $i (killed after $ms ms): the next run failed: $out"
	[[ "$out" == *"already running"* ]] && log_fail "round $i: a lock was left held: $out"
	for d in "" /a /b; do
		assert_eq "$(guids "zkdst/k/zksrc$d")" "$(guids "zksrc$d")" \
			"round $i (killed after $ms ms): snapshots of zksrc$d"
	done
	log_note "round $i: killed after $ms ms, converged"
done
