# The first pull into the empty leaves the seed's Ansible role pre-created
# (D/<client>/<ds>, canmount=off, acltype=posix, xattr=sa): into an
# unencrypted destination the receive takes -F; into an encrypted one
# (libzfs refuses -F there) the leaf is checked, destroyed and received
# again with its acltype and xattr, and only with the parent's key loaded.
# A leaf with anything in it (a child here) is never overwritten, --force
# or not, and the error says why. Parents zkeep makes for a pull get
# canmount=off, acltype=posix, xattr=sa, as the later seed's.
. ./lib.sh

pool_create zlsrc
pool_create zldst
log_must zfs create zlsrc/data
log_must zfs create zlsrc/other
dd if=/dev/urandom of=/zlsrc/data/f bs=64k count=8 status=none
log_must zfs snapshot -r zlsrc@s1
log_must zfs snapshot -r zlsrc@s2
key=/var/tmp/zk-leaf-key
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$key"
log_must zfs create -o canmount=off zldst/plain
log_must zfs create -o encryption=on -o keyformat=hex -o keylocation=file://$key \
	-o canmount=off zldst/enc
# the role's leaves, as it made them (zfs create -p would make the
# parents mountable: each level by hand)
leaf_make() { # DATASET...: each with the role's properties, never mounted
	local ds
	for ds in "$@"; do
		log_must zfs create -o canmount=off -o acltype=posix -o xattr=sa "$ds"
	done
}
for d in zldst/plain zldst/enc; do
	leaf_make $d/h $d/h/zlsrc $d/h/zlsrc/data
done
pull_job zlsrc/data zldst/plain h

# a dry run says what it would do, and does nothing
out=$(log_must "${PULL[@]}" --dry-run)
assert_contains "$out" "would receive over the empty leaf zldst/plain/h/zlsrc/data"
assert_eq "$(guids zldst/plain/h/zlsrc/data)" "" "snapshots after a dry run"

# unencrypted: -F over the empty leaf
out=$(log_must "${PULL[@]}")
assert_contains "$out" "Full send of zlsrc/data@s1 into zldst/plain/h/zlsrc/data"
assert_eq "$(guids zldst/plain/h/zlsrc/data)" "$(guids zlsrc/data)" "snapshots in the unencrypted leaf"

# encrypted: the parent's key must be loaded; until then nothing is touched
leaf=zldst/enc/h/zlsrc/data
g0=$(zfs get -H -p -o value guid $leaf)
# as zfs prints them (2.3 shows xattr=sa as "on")
props0=$(zfs get -H -o value,source acltype,xattr $leaf)
log_must zfs unload-key -r zldst/enc
PULL_ENC=("${PULL[@]/#zldst\/plain/zldst/enc}")
must_exit 1 --msg "the key of 'zldst/enc/h/zlsrc' is not loaded" "${PULL_ENC[@]}"
assert_eq "$(zfs get -H -p -o value guid $leaf)" "$g0" "the leaf after a refused pull"
log_must zfs load-key -r zldst/enc
out=$(log_must "${PULL_ENC[@]}" --dry-run)
assert_contains "$out" "would replace the empty leaf $leaf"
assert_eq "$(zfs get -H -p -o value guid $leaf)" "$g0" "the leaf after a dry run"
out=$(log_must "${PULL_ENC[@]}")
assert_contains "$out" "replaced the empty leaf $leaf"
assert_eq "$(guids $leaf)" "$(guids zlsrc/data)" "snapshots in the encrypted leaf"
assert_eq "$(zfs get -H -o value encryptionroot $leaf)" zldst/enc "its encryption root"
assert_eq "$(zfs get -H -o value,source acltype,xattr $leaf)" "$props0" "its acltype and xattr"
assert_contains "$props0" "posix	local" "the leaf's acltype"
assert_eq "$(zfs get -H -o value canmount $leaf)" noauto "its canmount"

# a leaf with a child, or with data, is someone's: refused, named,
# untouched, --force too
t=zldst/plain/h/zlsrc/other
leaf_make $t $t/kid
g1=$(zfs get -H -p -o value guid $t)
pull_job zlsrc/other zldst/plain h
for f in "" --force; do
	must_exit 1 --msg "'$t' exists without snapshots but is not empty (a child, $t/kid)" "${PULL[@]}" $f
done
assert_eq "$(zfs get -H -p -o value guid $t)" "$g1" "the refused leaf"
assert_eq "$(guids $t)" "" "snapshots in the refused leaf"
log_must zfs destroy $t/kid
log_must zfs set canmount=on $t
zfs mount $t 2>/dev/null || true # set may have mounted it
[ "$(zfs get -H -o value mounted $t)" = yes ] || log_fail "$t is not mounted"
dd if=/dev/urandom of=/$t/data bs=64k count=32 status=none
log_must zfs set canmount=off $t
zfs unmount $t 2>/dev/null || true # canmount=off may have done it
for f in "" --force; do
	must_exit 1 --msg "'$t' exists without snapshots but is not empty (" "${PULL[@]}" $f
done
assert_eq "$(zfs get -H -p -o value guid $t)" "$g1" "the leaf with data"
log_must zfs set canmount=on $t
zfs mount $t 2>/dev/null || true
[ -s /$t/data ] || log_fail "the data in the refused leaf is gone"
zfs unmount $t 2>/dev/null || true # canmount=off may have done it
log_must zfs set canmount=off $t

# parents a pull makes: as the later seed's
pull_job zlsrc/other zldst/plain h2
log_must "${PULL[@]}"
# as zfs prints the three on this version (2.3 shows xattr=sa as "on")
log_must zfs create -o canmount=off -o acltype=posix -o xattr=sa zldst/ref
want=$(zfs get -H -o value,source canmount,acltype,xattr zldst/ref)
for p in zldst/plain/h2 zldst/plain/h2/zlsrc; do
	assert_eq "$(zfs get -H -o value,source canmount,acltype,xattr $p)" "$want" "$p"
done
# an interrupted first receive into a replaced leaf: the resumed receive
# takes no -o, so the run record keeps the leaf's acltype and xattr and
# the run that completes the receive sets them
log_must zfs create zlsrc/big
dd if=/dev/urandom of=/zlsrc/big/f bs=1M count=24 status=none
log_must zfs snapshot zlsrc/big@s1
leaf=zldst/enc/h/zlsrc/big
leaf_make $leaf
props0=$(zfs get -H -o value,source acltype,xattr $leaf)
pull_job zlsrc/big zldst/enc h --bwlimit 2M
"${PULL[@]}" >"$st/out" 2>&1 &
zpid=$!
for _ in $(seq 1 300); do
	pgrep -u zkb -f "zfs send" >/dev/null && break
	kill -0 $zpid 2>/dev/null || log_fail "the pull ended before its send: $(cat "$st/out")"
	sleep 0.1
done
sleep 3 # some MiB in: at 2 MiB/s the 24 take 12 s
log_must pkill -u zkb -f "zfs send"
wait $zpid && log_fail "the interrupted pull exited 0: $(cat "$st/out")"
tok=$(zfs get -H -o value receive_resume_token $leaf)
[ "$tok" != - ] && [ -n "$tok" ] || log_fail "no partial receive to resume in $leaf: $(cat "$st/out")"
lp=$(python3 -c 'import json,sys; print([d for d in json.load(open(sys.argv[1]))["datasets"] if d["target"] == sys.argv[2]][0]["leaf_props"])' "$st/pull-h.json" $leaf)
assert_contains "$lp" "acltype=posix xattr=" "the record's leaf_props"
PULL=("${PULL[@]:0:${#PULL[@]}-2}") # the same job (and record) without --bwlimit
out=$(log_must "${PULL[@]}")
assert_contains "$out" "set acltype=posix xattr="
assert_contains "$out" " on $leaf, as the empty leaf it replaced had them"
assert_eq "$(guids $leaf)" "$(guids zlsrc/big)" "snapshots after the resume"
assert_eq "$(zfs get -H -o value,source acltype,xattr $leaf)" "$props0" "acltype and xattr after the resume"
lp=$(python3 -c 'import json,sys; print([d for d in json.load(open(sys.argv[1]))["datasets"] if d["target"] == sys.argv[2]][0]["leaf_props"])' "$st/pull-h.json" $leaf)
assert_eq "$lp" None "the record's leaf_props once set"
echo "pull into pre-created leaves: plain -F, encrypted replaced with its properties (also across an interrupted first receive), non-empty refused"

