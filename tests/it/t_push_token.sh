# A resume token from the push target is untrusted input (security issue,
# item 1). Real interrupted receives on the target, made the way a hostile
# offsite host could make them, then a non-restricted zkeep push through
# zkeep gate: it must never send plaintext of an encrypted dataset, nor a
# snapshot outside the job, whatever token the target lists; a token of
# the job's own interrupted raw send still resumes (send -w -t).
. ./lib.sh

pool_create ztsrc
pool_create ztoff
key=/var/tmp/zk-ptok-key
printf 'secretsecret\n' >$key
on_exit rm -f $key
log_must zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file://$key ztsrc/enc
log_must zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file://$key ztsrc/enc2
log_must zfs create ztsrc/other
for ds in enc enc2 other; do
	dd if=/dev/urandom of=/ztsrc/$ds/f bs=1M count=4 status=none
done
log_must zfs snapshot ztsrc/enc@s1
log_must zfs snapshot ztsrc/enc2@s1
log_must zfs snapshot ztsrc/other@o1
log_must zfs create -o canmount=off ztoff/backups
# destroy: receive -A of a partial full receive destroys that dataset
log_must zfs allow zkb create,mount,receive,canmount,destroy ztoff/backups

d=$(mktemp -d)
on_exit rm -rf "$d"
ssh-keygen -q -t ed25519 -N '' -f "$d/push"
ak=/home/zkb/.ssh/authorized_keys
cp $ak "$d/ak.orig"
on_exit cp "$d/ak.orig" $ak
{
	echo "command=\"$ZK gate --allow list,create,receive --prefix ztoff/backups\",restrict $(cat "$d/push.pub")"
	cat "$d/ak.orig"
} >$ak
printf '[global]\nstate_dir = %s\nlock_dir = %s\n' "$d" "$d" >"$d/zkeep.conf"
push() { # DATASET
	"$ZK" push --config "$d/zkeep.conf" --host localhost --user zkb --identity "$d/push" \
		--datasets "$1" --strip-prefix ztsrc --destination ztoff/backups
}
cut_recv() { # TARGET: an interrupted resumable receive of stdin
	head -c 1500000 | zfs receive -s -u "$1" 2>/dev/null
	[ "$(zfs get -H -o value receive_resume_token "$1")" != - ] ||
		log_fail "no resume token on $1"
}
refused() { # TARGET: the run record says why its token was not resumed
	jq -e --arg t "$1" '.datasets[] | select(.target == $t) | .resume_refused | strings' \
		"$d/push-localhost.json" >/dev/null || log_fail "no resume_refused for $1 in the record"
}

# 1. A plain (decrypted) partial receive of the encrypted dataset: its
# token lacks rawok. Resumed as it is, zfs send -t would send plaintext.
zfs send ztsrc/enc@s1 | cut_recv ztoff/backups/enc
out=$(log_must push ztsrc/enc)
assert_contains "$out" "not resuming the interrupted receive"
assert_contains "$out" "not of a raw send"
assert_eq "$(guids ztoff/backups/enc)" "$(guids ztsrc/enc)" "pushed snapshots"
assert_eq "$(zfs get -H -o value keystatus ztoff/backups/enc)" unavailable "key on the target"
[ "$(zfs get -H -o value encryption ztoff/backups/enc)" != off ] ||
	log_fail "the target received plaintext of an encrypted dataset"
refused ztoff/backups/enc

# 2. A token naming a snapshot outside the job (an unencrypted dataset,
# whose raw send is plaintext): refused, the job's own dataset sent.
zfs send -w ztsrc/other@o1 | cut_recv ztoff/backups/enc2
out=$(log_must push ztsrc/enc2)
assert_contains "$out" "not a snapshot of 'ztsrc/enc2'"
assert_eq "$(guids ztoff/backups/enc2)" "$(guids ztsrc/enc2)" "pushed snapshots"
assert_eq "$(zfs get -H -o value keystatus ztoff/backups/enc2)" unavailable "key on the target"
other=$(zfs get -Hp -o value guid ztsrc/other@o1)
zfs list -Hp -t snapshot -o guid -r ztoff | grep -qx "$other" &&
	log_fail "a snapshot outside the job reached the target"
refused ztoff/backups/enc2

# 3. The job's own interrupted raw incremental resumes, raw (send -w -t).
dd if=/dev/urandom of=/ztsrc/enc/g bs=1M count=4 status=none
log_must zfs snapshot ztsrc/enc@s2
zfs send -w -i @s1 ztsrc/enc@s2 | cut_recv ztoff/backups/enc
out=$(log_must push ztsrc/enc)
assert_contains "$out" "Resuming the interrupted receive into ztoff/backups/enc"
assert_eq "$(guids ztoff/backups/enc)" "$(guids ztsrc/enc)" "snapshots after the resume"
assert_eq "$(zfs get -H -o value keystatus ztoff/backups/enc)" unavailable "key on the target"
assert_eq "$(zfs get -H -o value receive_resume_token ztoff/backups/enc)" - "token left"

# 4. An unencrypted dataset is not pushed raw (its raw stream is
# plaintext), unless its [push] section says allow_unencrypted = yes.
must_exit 1 --msg "'ztsrc/other' is not encrypted" push ztsrc/other
zfs list ztoff/backups/other >/dev/null 2>&1 && log_fail "an unencrypted dataset was pushed"
printf '[push plain]\nhost = localhost\nuser = zkb\nidentity_file = %s\ndatasets = ztsrc/other\nstrip_prefix = ztsrc\ndestination = ztoff/backups\nallow_unencrypted = yes\n' \
	"$d/push" >>"$d/zkeep.conf"
out=$(log_must "$ZK" push --config "$d/zkeep.conf" --job plain)
assert_contains "$out" "pushed in plaintext"
assert_eq "$(guids ztoff/backups/other)" "$(guids ztsrc/other)" "allowed unencrypted push"
