# zkeep pull counted in zfs processes, exactly, on both sides (issue 22):
# a counting zfs first on PATH (/usr/local/sbin comes before /usr/sbin in
# zkeep's fixed PATH and in zkb's ssh sessions) logs who ran which verb.
#   full pull:   sends and receives, each side's listings, the parents,
#                one get, one hold (the base is held, not bookmarked)
#   no-op pulls: at most 2 listings per side (1 once a record lets skip)
#   hourly pull: N sends + N receives + a constant; the constant has a
#                zfs version per side (the wire flags' probe, made before
#                the first send: a no-op pull makes none), one get, one
#                hold and one release; the target's snapshots are not
#                listed where the record says its newest (>= 2.2), and
#                where that was wrong the receive refuses and they are
#                listed then (the target's newest gone: sent from an older
#                base; written to: refused, nothing changed; a snapshot
#                made there with nothing written: kept, received after it)
# and the listings ask only what zfs lists fast (name,guid,createtxg for
# snapshots), holds and creation times batched.
. ./lib.sh

pool_create zcs
pool_create zcd
log_must zfs create zcs/data
for i in 1 2 3 4 5; do log_must zfs create "zcs/data/d$i"; done
N=6 # zcs/data and its five children
for s in s1 s2 s3; do log_must zfs snapshot -r "zcs/data@$s"; done
pull_job zcs/data zcd h

real=$(command -v zfs)
log=/var/tmp/zk-count.log
for dir in /usr/local/sbin /usr/local/bin; do
	[ -e "$dir/zfs" ] && log_fail "$dir/zfs exists already"
	cat >"$dir/zfs" <<EOF
#!/bin/sh
printf '%s %s\n' "\$(id -un)" "\$1" >>$log
printf '%s %s\n' "\$(id -un)" "\$*" >>$log.full
exec $real "\$@"
EOF
	chmod 755 "$dir/zfs"
	on_exit rm -f "$dir/zfs"
done
: >$log
chmod 666 $log
on_exit rm -f $log $log.full
# both sides find the counter
for w in "$(su zkb -s /bin/sh -c 'command -v zfs')" "$(ssh -o BatchMode=yes zkb@localhost 'command -v zfs')"; do
	[[ "$w" == /usr/local/*bin/zfs ]] || log_fail "zkb finds $w, not the counter"
done

# counted RUN...: runs it with an empty log; $counts is then "user verb n"
# per line, sorted
counted() {
	: >$log
	: >$log.full
	chmod 666 $log $log.full
	log_must "$@" >/dev/null
	counts=$(sort $log | uniq -c | awk '{print $2, $3, $1}')
}
expect() { # what want
	assert_eq "$counts" "$2" "zfs processes of the $1 (all: $(cat $log.full))"
}

changed=yes
[ "$FLAVOUR" = 2.1 ] && changed=no # no snapshots_changed before OpenZFS 2.2

# the first, full pull: per dataset a full send of s1 and s2, s3 one -i
# at a time (a remote sender is not trusted with -I), one hold; the target tree is missing, so the destination is checked and the
# two parents made. On 2.1 both first listings are refused for
# snapshots_changed and asked again without it.
counted "${PULL[@]}"
if [ $changed = yes ]; then
	expect "full pull" "root create 2
root list 2
root receive $((3 * N))
root version 1
zkb get 1
zkb hold 1
zkb list 2
zkb send $((3 * N))
zkb version 1"
else
	expect "full pull" "root create 2
root list 3
root receive $((3 * N))
root version 1
zkb get 1
zkb hold 1
zkb list 3
zkb send $((3 * N))
zkb version 1"
fi
# snapshots listed as name,guid,createtxg only, by createtxg
grep -q "zkb list -Hp -t snapshot,bookmark -o name,guid,createtxg -s createtxg -r zcs/data" $log.full ||
	log_fail "the source's snapshot listing: $(cat $log.full)"
grep -q "userrefs\|creation,used" $log.full && log_fail "a slow column listed: $(cat $log.full)"
grep -q "zkb get -Hp -o name,property,value,source creation zcs/data@s3 " $log.full ||
	log_fail "one get of the newest snapshots' creation: $(cat $log.full)"
hn=$(hostname | cut -d. -f1)
for d in zcs/data zcs/data/d{1..5}; do
	assert_eq "$(guids "zcd/h/$d")" "$(guids "$d")" "snapshot guids of $d"
	assert_contains "$(zfs holds -H "$d@s3")" "zkeep:h:$hn"
done
python3 - "$st/pull-h.json" <<'PY' || log_fail "run record's newest creation"
import json, subprocess, sys
r = json.load(open(sys.argv[1]))
for d in r["datasets"]:
    n = d["newest"]
    want = subprocess.check_output(["zfs", "get", "-Hp", "-o", "value", "creation", n["name"]])
    assert n["creation"] == int(want), (n, want)
PY

# no-op pulls: the first lists every dataset's snapshots (the last run's
# snapshots_changed were too new to trust) and finds them up to date: on
# the target too, where the record says each one's newest, as no receive
# would check that word. The second skips them all by the record. The
# clock steps past the margin.
clock_advance 120
counted "${PULL[@]}"
expect "first no-op pull" "root list 2
zkb list 2"
counted "${PULL[@]}"
if [ $changed = yes ]; then
	expect "second no-op pull" "root list 1
zkb list 1"
else
	expect "second no-op pull" "root list 2
zkb list 2"
fi

# the hourly case: one new snapshot on every dataset. The target's
# snapshots are not listed (>= 2.2): the record says its newest, and
# nothing moved them since (their snapshots_changed).
log_must zfs snapshot -r zcs/data@h1
counted "${PULL[@]}"
[ $changed = yes ] && tl=1 || tl=2
expect "hourly pull" "root list $tl
root receive $N
root version 1
zkb get 1
zkb hold 1
zkb list 2
zkb release 1
zkb send $N
zkb version 1"
for d in zcs/data zcs/data/d{1..5}; do
	assert_eq "$(zfs holds -H "$d@h1" | cut -f2)" "zkeep:h:$hn" "hold moved to $d@h1"
	assert_eq "$(zfs holds -H "$d@s3")" "" "hold released from $d@s3"
done
assert_eq "$(zfs list -H -o name -t bookmark -r zcs/data | grep -c zkeep_)" 0 "no bookmark where the hold was made"
# every send as stored (OpenZFS >= 2.0 on both sides): -c -L -e
assert_eq "$(grep -c '^zkb send -c -L -e -i ' $log.full)" $N "sends with -c -L -e (all: $(cat $log.full))"

# two of six changed, after a run the record may skip by: only their
# snapshots are listed (-d 1), only they are sent
clock_advance 120
counted "${PULL[@]}"
log_must zfs snapshot zcs/data/d2@h2
log_must zfs snapshot zcs/data/d4@h2
counted "${PULL[@]}"
if [ $changed = yes ]; then
	expect "pull of 2 changed" "root list 1
root receive 2
root version 1
zkb get 1
zkb hold 1
zkb list 2
zkb release 1
zkb send 2
zkb version 1"
	grep -q "zkb list -Hp -t snapshot,bookmark -o name,guid,createtxg -s createtxg -d 1 zcs/data/d2 zcs/data/d4" $log.full ||
		log_fail "the changed datasets' snapshots: $(cat $log.full)"
fi
assert_eq "$(guids zcd/h/zcs/data/d4)" "$(guids zcs/data/d4)" "d4 after the last pull"
[ $changed = yes ] || exit 0

# Where the record's word is wrong: a change on the target within the
# second the last run ended (snapshots_changed has one-second
# resolution) leaves it trusted. Made here by moving the record's end of
# that dataset past the change.
record_end_later() { # target dataset
	python3 - "$st/pull-h.json" "$1" <<'PY' || log_fail "record edit"
import json, sys
p, t = sys.argv[1], sys.argv[2]
r = json.load(open(p))
for d in r["datasets"]:
    if d["target"] == t:
        d["end"] += 3600
json.dump(r, open(p, "w"))
PY
}
# the target's newest destroyed: the receive refuses the base, the target
# is listed, and the pull sends from the older base they still share
log_must zfs destroy zcd/h/zcs/data/d2@h2
record_end_later zcd/h/zcs/data/d2
log_must zfs snapshot zcs/data/d2@h3
counted "${PULL[@]}"
# (before the guids below, which the counter logs too) two listings of
# target snapshots: d4's (changed in the last run, nothing new since: up
# to date, which no receive checks) and, after the refusal, d2's
assert_eq "$(grep -c '^root list .* -t [a-z,]*snapshot' $log.full)" 2 "listings of the target's snapshots (all: $(cat $log.full))"
grep -q "^root list -Hp -t snapshot -o name,guid,createtxg -s createtxg -d 1 zcd/h/zcs/data/d4\$" $log.full ||
	log_fail "d4 listed: $(cat $log.full)"
grep -q "^root list .* -t [a-z,]*snapshot.* zcd/h/zcs/data/d2\$" $log.full || log_fail "d2 listed: $(cat $log.full)"
# the refused receive, then h1 -> h2 -> h3 one -i at a time
assert_eq "$(grep -c '^root receive' $log)" 3 "receives into d2 (all: $(cat $log.full))"
assert_eq "$(guids zcd/h/zcs/data/d2)" "$(guids zcs/data/d2)" "d2 sent from its older base"
# a snapshot made on the target, no data written: zfs receive takes an
# incremental whose base is in the target's chain with nothing written
# after it (the listing would have refused it as diverged): the new
# snapshot goes after it, nothing on the target is lost or rolled back
log_must zfs snapshot zcd/h/zcs/data/d4@local
record_end_later zcd/h/zcs/data/d4
log_must zfs snapshot zcs/data/d4@h3
log_must "${PULL[@]}"
assert_eq "$(zfs list -H -o name -t snapshot -s createtxg zcd/h/zcs/data/d4 | tail -n 2 | tr '\n' ' ')" \
	"zcd/h/zcs/data/d4@local zcd/h/zcs/data/d4@h3 " "the target's own snapshot kept, the new one after it"
assert_eq "$(zfs get -H -p -o value guid zcd/h/zcs/data/d4@h3)" "$(zfs get -H -p -o value guid zcs/data/d4@h3)" "d4@h3"
# written to after its newest: the receive refuses, nothing changes
log_must zfs mount zcd/h/zcs/data/d4
dd if=/dev/urandom of="$(zfs get -H -o value mountpoint zcd/h/zcs/data/d4)/w" bs=64k count=1 status=none ||
	log_fail "write into d4's copy"
log_must zfs umount zcd/h/zcs/data/d4
record_end_later zcd/h/zcs/data/d4
log_must zfs snapshot zcs/data/d4@h4
before=$(guids zcd/h/zcs/data/d4)
: >$log.full
must_exit 1 --msg "modified" "${PULL[@]}"
# refused from the record's word, listed, refused again as after a listing
assert_eq "$(grep -c '^root list .* -t [a-z,]*snapshot.* zcd/h/zcs/data/d4$' $log.full)" 1 "d4 listed (all: $(cat $log.full))"
assert_eq "$(grep -c '^root receive' $log.full)" 2 "receives into d4 (all: $(cat $log.full))"
assert_eq "$(guids zcd/h/zcs/data/d4)" "$before" "d4's copy unchanged"
true
