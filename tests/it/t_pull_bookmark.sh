# zkeep pull where the source refuses holds (a user without `hold`): the
# job's bookmark of the base stands in for the hold, and after the
# source pruned the base it is the base (not an older daily both sides
# still have, which would make the target's copy of the base look
# diverged), every snapshot after it is sent, and retention on the
# target counts only what the target has (keep never takes a daily for a
# hourly it was not sent). Once the hold is allowed, the base is held
# and the job's bookmark goes (no bookmark per run where holds work).
# Two backup servers pulling one client keep their own holds.
. ./lib.sh

pool_create zbsrc
pool_create zbdst
log_must zfs create zbsrc/a
log_must zfs create zbsrc/b
snap() { log_must zfs snapshot "zbsrc/$1@autosnap_2026-01-2$2_hourly"; }
log_must zfs snapshot zbsrc/a@autosnap_2026-01-20_00:00:00_daily
for h in 1_01:00:00 1_02:00:00; do snap a $h; done
pull_job zbsrc/a zbdst h
T=zbdst/h/zbsrc/a
H2=autosnap_2026-01-21_02:00:00_hourly
H3=autosnap_2026-01-21_03:00:00_hourly
hn=$(hostname | cut -d. -f1)
BM="zkeep_h:${hn}_" TAG="zkeep:h:$hn"
# a base held while holds were allowed ...
log_must "${PULL[@]}" >/dev/null
assert_contains "$(zfs holds -H zbsrc/a@$H2)" "$TAG"
# ... then `hold` taken away: the next base is bookmarked, and the old
# base's hold released (release is still allowed), not left for good
log_must zfs unallow zkb hold zbsrc/a
snap a 1_03:00:00
out=$(log_must "${PULL[@]}" 2>&1)
assert_contains "$out" "bookmarking the bases it refuses instead"
log_must zfs list -t bookmark "zbsrc/a#$BM$H3" >/dev/null
assert_eq "$(zfs holds -H zbsrc/a@$H3)" "" "no hold where holds are refused"
assert_eq "$(zfs holds -H zbsrc/a@$H2)" "" "the old base's hold, after the new base was bookmarked"
python3 - "$st/pull-h.json" <<'PY2' || log_fail "the bookmarked base is recorded as protected"
import json, sys
ds = json.load(open(sys.argv[1]))["datasets"]
assert [d["protected"] for d in ds] == [True], ds
PY2

# the client prunes its hourlies, the base too
for h in 01 02 03; do log_must zfs destroy "zbsrc/a@autosnap_2026-01-21_$h:00:00_hourly"; done
snap a 1_04:00:00
snap a 1_05:00:00
out=$(log_must "${PULL[@]}" --keep "hourly=2 daily=1")
assert_contains "$out" "Incremental send zbsrc/a#$BM$H3 -> zbsrc/a@autosnap_2026-01-21_04:00:00_hourly into $T"
assert_contains "$out" "Incremental send zbsrc/a@autosnap_2026-01-21_04:00:00_hourly -> zbsrc/a@autosnap_2026-01-21_05:00:00_hourly into $T"
assert_contains "$out" "pruned 3 snapshot(s) of $T (keep)"
# the target: its daily (which the source still has: not counted twice),
# and the two newest hourlies, both with the source's guids
assert_eq "$(zfs list -H -o name -t snapshot -s createtxg $T | sed 's/.*@//')" \
	"autosnap_2026-01-20_00:00:00_daily
autosnap_2026-01-21_04:00:00_hourly
autosnap_2026-01-21_05:00:00_hourly" "target snapshots after the bookmark run"
assert_eq "$(guids $T | tail -n 2)" "$(guids zbsrc/a | tail -n 2)" "guids of what was sent"
# the bookmark moved on to the new base
log_must zfs list -t bookmark "zbsrc/a#${BM}autosnap_2026-01-21_05:00:00_hourly" >/dev/null
log_mustnot zfs list -t bookmark "zbsrc/a#$BM$H3"
out=$(log_must "${PULL[@]}" --keep "hourly=2 daily=1")
assert_contains "$out" "Up to date: $T"

# holds allowed again: the next base is held, and the job's bookmark of
# the old one is destroyed, no new one made
log_must zfs allow zkb hold zbsrc/a
snap a 1_06:00:00
out=$(log_must "${PULL[@]}" --keep "hourly=2 daily=1" 2>&1)
[[ "$out" == *"bookmarking the bases"* ]] && log_fail "fell back with holds allowed: $out"
assert_contains "$(zfs holds -H zbsrc/a@autosnap_2026-01-21_06:00:00_hourly)" "$TAG"
assert_eq "$(zfs list -H -o name -t bookmark zbsrc/a | grep -c "#$BM")" 0 "the job's bookmarks once the base is held"

# two backup servers pull one client with the same (the default) job
# name: the marks name the host, so each keeps its own hold and bookmark
log_must zfs create zbsrc/c
log_must zfs snapshot zbsrc/c@c1
pool_create zbdst2
pull_job zbsrc/c zbdst h
PA=("${PULL[@]}")
pull_job zbsrc/c zbdst2 h
PB=("${PULL[@]}")
log_must "${PA[@]}" >/dev/null
old=$(hostname)
on_exit hostname "$old"
log_must hostname zkeep-other
log_must "${PB[@]}" >/dev/null
log_must hostname "$old"
assert_contains "$(zfs holds -H zbsrc/c@c1)" "zkeep:h:$hn"
assert_contains "$(zfs holds -H zbsrc/c@c1)" "zkeep:h:zkeep-other"
log_must zfs snapshot zbsrc/c@c2
log_must "${PA[@]}" >/dev/null
assert_contains "$(zfs holds -H zbsrc/c@c2)" "zkeep:h:$hn"
assert_eq "$(zfs holds -H zbsrc/c@c1 | cut -f2)" "zkeep:h:zkeep-other" "holds left on the other server's base"
assert_eq "$(zfs list -H -o name -t bookmark zbsrc/c)" "" "bookmarks where holds work"

# a first sync of the newest only, with keep: nothing it did not receive
# is counted, so nothing fails to be destroyed
pull_job zbsrc/b zbdst h
for h in 1_01:00:00 1_02:00:00 1_03:00:00; do snap b $h; done
out=$(log_must "${PULL[@]}" --full-newest --keep "hourly=1")
assert_contains "$out" "Full send of zbsrc/b@$H3 into zbdst/h/zbsrc/b"
[[ "$out" == *pruned* ]] && log_fail "a first sync of one snapshot pruned: $out"
assert_eq "$(zfs list -H -o name -t snapshot zbdst/h/zbsrc/b)" "zbdst/h/zbsrc/b@$H3" "target of --full-newest"

# hold allowed on some datasets only: the batched hold fails, so each is
# asked alone; the one that may is held, the others bookmarked, and every
# old base released
log_must zfs create zbsrc/p
log_must zfs create zbsrc/p/p1
log_must zfs create zbsrc/p/p2
log_must zfs snapshot -r zbsrc/p@x1
pull_job zbsrc/p zbdst hp
log_must "${PULL[@]}" >/dev/null
log_must zfs unallow zkb hold zbsrc/p
log_must zfs allow zkb hold zbsrc/p/p1
log_must zfs snapshot -r zbsrc/p@x2
log_must "${PULL[@]}" >/dev/null
PBM="zkeep_hp:${hn}_x2" PTAG="zkeep:hp:$hn"
assert_contains "$(zfs holds -H zbsrc/p/p1@x2)" "$PTAG"
log_mustnot zfs list -t bookmark "zbsrc/p/p1#$PBM"
for d in zbsrc/p zbsrc/p/p2; do
	log_must zfs list -t bookmark "$d#$PBM" >/dev/null
	assert_eq "$(zfs holds -H $d@x2)" "" "hold on $d@x2 where hold is not allowed"
done
for d in zbsrc/p zbsrc/p/p1 zbsrc/p/p2; do
	assert_eq "$(zfs holds -H $d@x1)" "" "the old base $d@x1 released"
done
true
