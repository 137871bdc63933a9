# zkeep pull counted in zfs processes, exactly, on both sides (issue 22):
# a counting zfs first on PATH (/usr/local/sbin comes before /usr/sbin in
# zkeep's fixed PATH and in zkb's ssh sessions) logs who ran which verb.
#   full pull:   sends and receives, each side's listings, the parents,
#                one get, one hold (the base is held, not bookmarked)
#   no-op pulls: at most 2 listings per side (1 once a record lets skip)
#   hourly pull: N sends + N receives + a constant; the constant has a
#                zfs version per side (the wire flags' probe, made before
#                the first send: a no-op pull makes none), one get, one
#                hold and one release
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
# snapshots_changed were too new to trust) and finds them up to date; the
# second skips them all by the record. The clock steps past the margin.
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

# the hourly case: one new snapshot on every dataset
log_must zfs snapshot -r zcs/data@h1
counted "${PULL[@]}"
expect "hourly pull" "root list 2
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
	expect "pull of 2 changed" "root list 2
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
true
