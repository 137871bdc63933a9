# zkeep pull --parallel N over real ssh: the streams of several datasets
# overlap (seen as two zfs receives at once), a child's full receive
# waits for its parent's, and what comes out is what a run one at a
# time gives: every snapshot with the source's guid, the record's
# datasets in the same order, the base held on each, a dataset that
# fails (its target diverged) failing alone with exit 1.
. ./lib.sh

pool_create zps
pool_create zpd
log_must zfs create zps/data
for c in a b c d a/g; do log_must zfs create "zps/data/$c"; done
for c in a b c d; do dd if=/dev/urandom of="/zps/data/$c/f" bs=64k count=16 status=none; done
# a four times the others: a/g is taken up while a's full receive still
# runs, and must wait for it (a child's full receive needs its parent)
dd if=/dev/urandom of=/zps/data/a/f bs=64k count=64 status=none
log_must zfs snapshot -r zps/data@s1
pull_job zps/data zpd h
hn=$(hostname | cut -d. -f1)

# watch the receives while the pull runs: 4 x 1 MiB at a shared 1 MiB/s
# take seconds each, so streams that overlap are seen doing it
watch_receives() {
	local most=0 n
	while kill -0 "$1" 2>/dev/null; do
		n=$(pgrep -fc '^zfs receive' || true)
		[ "$n" -gt "$most" ] && most=$n
		sleep 0.2
	done
	echo "$most"
}
"${PULL[@]}" --parallel 3 --bwlimit 1M >"$st/out" 2>&1 &
zpid=$!
most=$(watch_receives $zpid)
wait $zpid || log_fail "the parallel pull: $(cat "$st/out")"
[ "$most" -ge 2 ] || log_fail "no two receives at once (most $most): $(cat "$st/out")"
log_note "receives at once: at most $most"
for d in zps/data zps/data/{a,b,c,d,a/g}; do
	assert_eq "$(guids "zpd/h/$d")" "$(guids "$d")" "snapshot guids of $d"
	assert_contains "$(zfs holds -H "$d@s1")" "zkeep:h:$hn"
done
assert_eq "$(jq -r '[.datasets[].result] | unique | join(" ")' "$st/pull-h.json")" "ok" "results"
# the record lists the datasets in the order a run one at a time does
# (another job, into another tree)
par=$(jq -r '.datasets[].source' "$st/pull-h.json")
PA=("${PULL[@]}") pst=$st
pull_job zps/data zpd one
log_must "${PULL[@]}" >/dev/null
assert_eq "$(jq -r '.datasets[].source' "$st/pull-one.json")" "$par" "the record's order"
PULL=("${PA[@]}") st=$pst

# the next run: one dataset's target diverged; it fails alone, the others
# get their increment, and the exit code says a dataset failed
log_must zfs snapshot -r zps/data@s2
log_must zfs snapshot zpd/h/zps/data/b@local
must_exit 1 "${PULL[@]}" --parallel 3
for d in zps/data zps/data/{a,c,d,a/g}; do
	assert_eq "$(guids "zpd/h/$d")" "$(guids "$d")" "snapshot guids of $d after s2"
	assert_contains "$(zfs holds -H "$d@s2")" "zkeep:h:$hn"
done
assert_eq "$(jq -r '.datasets[] | select(.result == "failed") | .source' "$st/pull-h.json")" \
	"zps/data/b" "the one failed dataset"
true
