# zkeep api over HTTPS ([api] tls_cert and tls_key; libmicrohttpd with
# GnuTLS): a test CA signs a certificate for 127.0.0.1; curl trusting that
# CA gets /api/v1/health, and with the API key past the 401 that a request
# without it gets; curl not trusting it refuses the server; plain HTTP on
# the port gets no answer; a config with only one of the two is refused
# with its reason, and so is a key that does not match the certificate;
# the files may be symlinks (certbot's live/). Runs on this machine (no
# ZFS needed).
. "$(dirname "$0")/lib/api.sh"

cd "$d"
ossl() { openssl "$@" >/dev/null 2>&1 || fail "openssl $*"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
	-out ca.pem -days 2 -subj /CN=zkeep-test-ca
ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key \
	-out srv.csr -subj /CN=127.0.0.1
printf 'subjectAltName=IP:127.0.0.1\n' >ext
ossl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext
chmod 600 srv.key
echo "tls-test-key" >key

# only one of the two: refused, said why
printf '[global]\nstate_dir = %s\nlock_dir = %s\n[api]\ntls_cert = %s/srv.pem\n' "$d" "$d" "$d" >zkeep.conf
out=$("$zk" api --config zkeep.conf --listen "127.0.0.1:$port" 2>&1) && fail "half a TLS config was taken"
grep -q "needs both tls_cert and tls_key" <<<"$out" || fail "half a TLS config: $out"

# a key that is not the certificate's: refused, and the message says so
ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key \
	-out other.csr -subj /CN=other
printf '[global]\nstate_dir = %s\nlock_dir = %s\n[api]\ntls_cert = %s/srv.pem\ntls_key = %s/other.key\n' \
	"$d" "$d" "$d" "$d" >zkeep.conf
out=$("$zk" api --config zkeep.conf --listen "127.0.0.1:$port" 2>&1) && fail "a mismatched key was taken"
grep -q "not a matching PEM certificate and key" <<<"$out" || fail "mismatched key: $out"

# symlinks, as certbot's live/ directory has them
mkdir live
ln -s ../srv.pem live/fullchain.pem
ln -s ../srv.key live/privkey.pem
printf '[global]\nstate_dir = %s\nlock_dir = %s\n[api]\ntls_cert = %s/live/fullchain.pem\ntls_key = %s/live/privkey.pem\napi_key_file = %s/key\n' \
	"$d" "$d" "$d" "$d" "$d" >zkeep.conf
base=https://127.0.0.1:$port
api_start "127.0.0.1:$port" "$base"
grep -q "listening on 127.0.0.1:$port (https, auth on)" api.log || fail "start-up line: $(cat api.log)"
code() { curl -s -o body -w '%{http_code}' --cacert ca.pem "$@"; }
[ "$(code "$base/api/v1/health")" = 200 ] || fail "health over https: $(cat body)"
grep -q '"status":"healthy"' body || fail "health body: $(cat body)"
[ "$(code "$base/api/v1/pools")" = 401 ] || fail "pools without the key over https"
c=$(code -H "X-API-Key: tls-test-key" "$base/api/v1/pools")
[ "$c" != 401 ] && [ "$c" != 000 ] || fail "pools with the key over https: $c"
rc=0
curl -s -o /dev/null "$base/api/v1/health" || rc=$?
[ $rc = 60 ] || fail "curl without the CA: exit $rc, not 60 (certificate not trusted)"
c=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$port/api/v1/health" || true)
[ "$c" != 200 ] || fail "plain HTTP answered on the TLS port"
kill -0 "$pid" || fail "the api died: $(cat api.log)"
