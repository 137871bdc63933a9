# zkeep pull over real ssh (zkb@localhost, with send delegated) into a
# backup pool: continues a target the seed's scripts made, full and
# incremental sends by guid, up to date, divergence refused unless --force,
# the seed's lock, run records, and every failure named.
. ./lib.sh

pool_create zsrc
pool_create zdst
for d in a a/c "with space" b; do log_must zfs create "zsrc/$d"; done
dd if=/dev/urandom of=/zsrc/a/f bs=64k count=32 status=none
log_must zfs snapshot -r zsrc@s1
# the seed's delegation (incremental sends need hold as well as send)
log_must zfs allow zkb mount,send,hold,snapshot,destroy,release zsrc
st=$(mktemp -d)
locks=$(mktemp -d)
on_exit rm -rf "$st" "$locks"
conf=$st/zkeep.conf
printf '[global]\nstate_dir = %s\nlock_dir = %s\n' "$st" "$locks" >"$conf"
PULL=($ZK pull --config "$conf" --host localhost --user zkb --destination zdst --name h)

# the seed's first backup of zsrc/a, in its exact form
log_must zfs create -o canmount=off zdst/h
log_must zfs create -o canmount=off zdst/h/zsrc
zfs send zsrc/a@s1 | zfs receive -F -u zdst/h/zsrc/a || log_fail "seed-form first backup"
log_must zfs snapshot -r zsrc@s2

out=$(log_must "${PULL[@]}" --datasets zsrc/a "zsrc/with space")
assert_contains "$out" "Incremental send zsrc/a@s1 -> zsrc/a@s2 into zdst/h/zsrc/a"
assert_contains "$out" "Full send of zsrc/a/c@s1 into zdst/h/zsrc/a/c"
assert_contains "$out" "Full send of zsrc/with space@s1 into zdst/h/zsrc/with space"
guids() { zfs list -H -p -o guid -t snapshot -s createtxg "$1"; }
for d in a a/c "with space"; do
	assert_eq "$(guids "zdst/h/zsrc/$d")" "$(guids "zsrc/$d")" "snapshot guids of $d"
done
assert_eq "$(zfs list -H -o name zdst/h/zsrc/b 2>/dev/null)" "" "a dataset not asked for"
python3 - "$st/pull-h.json" <<'PY' || log_fail "run record"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["job"] == "h" and r["kind"] == "pull" and r["result"] == "ok", r
d = {x["source"]: x for x in r["datasets"]}
assert d["zsrc/a"]["result"] == "ok" and d["zsrc/a"]["bytes"] > 0, d
assert d["zsrc/a"]["newest"]["name"] == "zsrc/a@s2", d
assert d["zsrc/with space"]["target"] == "zdst/h/zsrc/with space", d
PY

# nothing new: nothing sent
out=$(log_must "${PULL[@]}" --datasets zsrc/a "zsrc/with space")
assert_contains "$out" "Up to date: zdst/h/zsrc/a"
assert_contains "$out" "Up to date: zdst/h/zsrc/a/c"
[[ "$out" == *"send"* ]] && log_fail "a no-op pull sent something: $out"

# a FIFO where the run record belongs is not waited on: said, then replaced
rm -f "$st/pull-h.json" && mkfifo "$st/pull-h.json"
out=$(log_must timeout 60 "${PULL[@]}" --datasets zsrc/a 2>&1)
assert_contains "$out" "ignoring the last run record: cannot read '$st/pull-h.json': not a regular file"
[ -f "$st/pull-h.json" ] || log_fail "the FIFO was not replaced by a run record"

# a target with its own snapshot after the base: refused, named; the
# other datasets still pulled; --force rolls it back
log_must zfs snapshot zdst/h/zsrc/a@local
log_must zfs snapshot -r zsrc@s3
out=$("${PULL[@]}" --datasets zsrc/a "zsrc/with space" 2>&1)
assert_eq $? 1 "exit code with a diverged target"
assert_contains "$out" "zdst/h/zsrc/a@local"
assert_contains "$out" "--force"
log_must zfs list "zdst/h/zsrc/with space@s3" >/dev/null
log_mustnot zfs list zdst/h/zsrc/a@s3
out=$(log_must "${PULL[@]}" --force --datasets zsrc/a)
log_must zfs list zdst/h/zsrc/a@s3 >/dev/null
log_mustnot zfs list zdst/h/zsrc/a@local

# the seed's lock: another holder -> message, exit 0, nothing done
log_must zfs snapshot -r zsrc@s4
# -o: flock itself holds the lock, so killing it frees the lock
flock -o "$locks/zfs-pull-backups-h.lock" sleep 20 &
fpid=$!
on_exit kill $fpid
sleep 1
out=$(log_must "${PULL[@]}" --datasets zsrc/a)
assert_contains "$out" "Another instance is already running (PID $fpid)"
log_mustnot zfs list zdst/h/zsrc/a@s4
kill $fpid; wait $fpid 2>/dev/null
out=$(log_must "${PULL[@]}" --datasets zsrc/a)
log_must zfs list zdst/h/zsrc/a@s4 >/dev/null

# bad input: each a clear error, nothing changed
before=$(zfs list -H -o name -t all -r zdst | md5sum)
out=$("${PULL[@]}" --datasets zsrc/nope 2>&1)
assert_eq $? 1 "exit code for a missing source dataset"
assert_contains "$out" "zsrc/nope"
out=$($ZK pull --config "$conf" --host localhost --user zkb --destination zdst/nope --name h --datasets zsrc/a 2>&1)
assert_eq $? 1 "exit code for a missing destination"
assert_contains "$out" "destination 'zdst/nope' does not exist"
out=$($ZK pull --config "$conf" --host localhost --user nobody-here --destination zdst --name h --datasets zsrc/a 2>&1)
assert_eq $? 1 "exit code for an unreachable host"
assert_contains "$out" "cannot reach nobody-here@localhost"
$ZK pull --config "$conf" --host localhost --datasets "zsrc/a;id" --destination zdst >/dev/null 2>&1
assert_eq $? 2 "exit code for an invalid dataset name"
$ZK pull --config "$conf" --host localhost --datasets zsrc/a --destination zdst --bwlimit 3X >/dev/null 2>&1
assert_eq $? 2 "exit code for a bad --bwlimit"
assert_eq "$(zfs list -H -o name -t all -r zdst | md5sum)" "$before" "target after refused runs"

# the seed's name, and --bwlimit through zkeep's own relay
d=$(mktemp -d)
on_exit rm -rf "$d"
ln -s $ZK "$d/zfs-pull-backups"
log_must zfs snapshot -r zsrc@s5
out=$(log_must "$d/zfs-pull-backups" --config "$conf" --host localhost --user zkb --destination zdst --name h --datasets zsrc/a --bwlimit 10M)
assert_contains "$out" "* Incremental send zsrc/a@s4 -> zsrc/a@s5"

# retention on the backup side: keep 2 hourly; the newest common stays
for h in 01 02 03 04; do log_must zfs snapshot "zsrc/a@autosnap_2026-01-21_$h:00:00_hourly"; done
out=$(log_must "${PULL[@]}" --datasets zsrc/a --keep "hourly=2")
assert_contains "$out" "pruned 2 snapshot(s) of zdst/h/zsrc/a (keep)"
left=$(zfs list -H -o name -t snapshot -s createtxg zdst/h/zsrc/a | grep -c _hourly)
assert_eq "$left" 2 "hourly snapshots kept on the target"
log_must zfs list zdst/h/zsrc/a@autosnap_2026-01-21_04:00:00_hourly >/dev/null
log_must zfs list zdst/h/zsrc/a@s5 >/dev/null # not a policy snapshot: never pruned
# a held one is kept, and said to be
log_must zfs snapshot zsrc/a@autosnap_2026-01-21_05:00:00_hourly
log_must zfs hold mine zdst/h/zsrc/a@autosnap_2026-01-21_03:00:00_hourly
on_exit zfs release mine zdst/h/zsrc/a@autosnap_2026-01-21_03:00:00_hourly
out=$(log_must "${PULL[@]}" --datasets zsrc/a --keep "hourly=2")
assert_contains "$out" "keeping zdst/h/zsrc/a@autosnap_2026-01-21_03:00:00_hourly: held"

# the wire (issue 22): an lz4 dataset of compressible text, 1 MiB records,
# goes as stored (send -c -L -e). The goal: bytes on the wire <= 1.02x the
# snapshot's `written`: the space it references and its predecessor does
# not, compressed as stored, which is exactly the blocks a full (first
# snapshot: all it references) or an incremental send carries. Not `used`
# (of a snapshot: only what no other references) nor logicalreferenced /
# compressratio (rounded to 0.01x). written also counts what no stream
# carries (indirect blocks, metadata twice), so it errs on the safe side;
# a send without -c carries the text decompressed, about 3x. 1 MiB records
# make -L visible in bytes too: without -L zfs splits them into 128 KiB
# and sends them decompressed, -c or not; so the incremental's bytes show
# that it kept -L, as the record says it must.
log_must zfs create -o compression=lz4 -o recordsize=1M zsrc/lz
# wire_check SNAP: the last pull's bytes of zsrc/lz against SNAP's written,
# and the record says the target has had -L
wire_check() {
	python3 - "$st/pull-h.json" "$1" "$(zfs get -Hp -o value written "$1")" <<'PY' ||
import json, sys
r = json.load(open(sys.argv[1]))
d = {x["source"]: x for x in r["datasets"]}["zsrc/lz"]
ratio = d["bytes"] / int(sys.argv[3])
print(f"wire: {sys.argv[2]}: {d['bytes']} bytes sent, written {sys.argv[3]}: {ratio:.3f}x")
assert d["result"] == "ok" and d["large_blocks"] is True, d
assert ratio <= 1.02, ratio
PY
		log_fail "the wire of $1"
}
seq 1 700000 >/zsrc/lz/text # 4.6 MiB of text
log_must zfs snapshot zsrc/lz@w1
log_must "${PULL[@]}" --datasets zsrc/lz >/dev/null
wire_check zsrc/lz@w1
seq 700001 1000000 >>/zsrc/lz/text
log_must zfs snapshot zsrc/lz@w2
log_must "${PULL[@]}" --datasets zsrc/lz >/dev/null
wire_check zsrc/lz@w2
assert_eq "$(guids zdst/h/zsrc/lz)" "$(guids zsrc/lz)" "snapshot guids of zsrc/lz"
# a target the old scripts filled (a plain send, no -L) is never switched
# to -L (that switch has zeroed files on receive: openzfs#17866): its
# incremental goes without -L, the record says so, the file is whole
log_must zfs create -o compression=lz4 -o recordsize=1M zsrc/lz2
seq 1 300000 >/zsrc/lz2/text
log_must zfs snapshot zsrc/lz2@v1
log_must sh -c 'zfs send zsrc/lz2@v1 | zfs receive -u zdst/h/zsrc/lz2'
seq 300001 400000 >>/zsrc/lz2/text
log_must zfs snapshot zsrc/lz2@v2
log_must "${PULL[@]}" --datasets zsrc/lz2 >/dev/null
python3 - "$st/pull-h.json" <<'PY' || log_fail "the old scripts' target got -L (above)"
import json, sys
d = {x["source"]: x for x in json.load(open(sys.argv[1]))["datasets"]}["zsrc/lz2"]
assert d["result"] == "ok" and d["large_blocks"] is False, d
PY
log_must zfs mount zdst/h/zsrc/lz2
cmp /zsrc/lz2/text "$(zfs get -H -o value mountpoint zdst/h/zsrc/lz2)/text" ||
	log_fail "zdst/h/zsrc/lz2's text differs from its source's"
log_must zfs unmount zdst/h/zsrc/lz2
