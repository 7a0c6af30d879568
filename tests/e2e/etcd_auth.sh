#!/usr/bin/env bash
# The peer set in etcd over TLS with client certificates, and with etcd's own
# users (wgate(8), FLEETS): a gateway reads and writes its peers with the right
# credentials; with a wrong CA, no client certificate or a wrong password it
# says why and changes nothing, and nothing secret reaches its messages.
#
#   E (etcd, TLS 10.97.0.1:2379; plain with users 10.97.0.2:2379) -- 192.168.106.0/24 -- G (wgate)
source "$(dirname "$0")/hosts.bash"
umask 077

E=wga-e-$$ G=wga-g-$$
IF=ta$$ IF_U=tu$$
interfaces_used "$IF" "$IF_U"
at_exit() {
	local f
	for f in "$TMP"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
}
setup() {
	hosts_add "$E" "$G" && veth "$E" "$G" e 106 || return 1
	ip -n "$E" addr add 10.97.0.1/32 dev lo && ip -n "$E" addr add 10.97.0.2/32 dev lo &&
		ip -n "$G" route add 10.97.0.0/24 via 192.168.106.1
}
setup_or_end setup

# a CA, the member's certificate (for its address) and the gateway's client certificate
pki() {
	cd "$TMP" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=wgate-test-ca -keyout ca.key -out ca.pem 2>/dev/null &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj /CN=other-ca -keyout other.key -out other.pem 2>/dev/null || return 1
	for who in member gateway; do
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$who" \
			-keyout "$who.key" -out "$who.csr" 2>/dev/null || return 1
		if [ $who = member ]; then
			# etcd's JSON gateway calls its own gRPC port with the member's certificate
			printf 'subjectAltName=IP:10.97.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >ext
		else
			printf 'extendedKeyUsage=clientAuth\n' >ext
		fi
		openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile ext -out "$who.pem" 2>/dev/null || return 1
	done
}
check "a CA, a member certificate and a client certificate" pki

member() { # NAME IP EXTRA...
	local name=$1 ip=$2 scheme=http
	shift 2
	[ "$name" = tls ] && scheme=https
	(
		ip netns exec "$E" etcd --name "$name" --data-dir "$TMP/etcd-$name" \
			--listen-client-urls "$scheme://$ip:2379" --advertise-client-urls "$scheme://$ip:2379" \
			--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
			--initial-cluster "$name=http://$ip:2380" "$@" >"$TMP/etcd-$name.log" 2>&1 &
		echo $! >"$TMP/etcd-$name.pid"
	)
}
member tls 10.97.0.1 --cert-file "$TMP/member.pem" --key-file "$TMP/member.key" \
	--trusted-ca-file "$TMP/ca.pem" --client-cert-auth
member users 10.97.0.2
ctl_tls() {
	nsx "$E" env ETCDCTL_API=3 etcdctl --endpoints https://10.97.0.1:2379 --cacert "$TMP/ca.pem" \
		--cert "$TMP/gateway.pem" --key "$TMP/gateway.key" --dial-timeout 2s "$@"
}
ctl_users() { nsx "$E" env ETCDCTL_API=3 etcdctl --endpoints http://10.97.0.2:2379 --dial-timeout 2s "$@"; }
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done
}
check "the TLS member answers (client certificates required)" wait_for 20 ctl_tls endpoint health
check "the second member answers" wait_for 20 ctl_users endpoint health
# etcd's users: root (to turn authentication on) and wgate, allowed the interface's prefix only
users() {
	echo rootpw | ctl_users user add root --interactive=false &&
		echo gatewaypw | ctl_users user add wgate --interactive=false &&
		ctl_users role add wgate-peers &&
		ctl_users role grant-permission wgate-peers --prefix=true readwrite "/wgate/$IF_U/peers/" &&
		ctl_users user grant-role wgate wgate-peers &&
		ctl_users auth enable
} >/dev/null
check "etcd's users: root, and wgate with read-write on its prefix only" users

KEY=$(wg genkey)
PEER_A=$(wg genkey | wg pubkey) PEER_B=$(wg genkey | wg pubkey)
conf() { # NAME PORT ETCD-KEYS...
	local name=$1 port=$2
	shift 2
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = 10.81.0.1/24\n' "$KEY" "$port"
		printf 'PublicEndpoint = gw.example.net:51820\n'
		printf '%s\n' "$@"
	} >"$TMP/$name.conf"
}
conf "$IF" 51820 "EtcdEndpoints = https://10.97.0.1:2379" "EtcdCACert = $TMP/ca.pem" \
	"EtcdCert = $TMP/gateway.pem" "EtcdKey = $TMP/gateway.key"
printf 'gatewaypw\n' >"$TMP/password"
conf "$IF_U" 51821 "EtcdEndpoints = http://10.97.0.2:2379" "EtcdUser = wgate" "EtcdPasswordFile = $TMP/password"
export WGATE_STATE_DIR=$TMP/state

check "the gateway comes up over TLS with its client certificate" up_logged "$G" "$TMP/$IF.conf" "$TMP/g.log"
check "and follows etcd" wait_for 5 grep -q "event=etcd_connected" "$TMP/g.log"
check "wgate peer add writes over TLS" nsx "$G" "$WGATE" peer add "$IF" a --public-key "$PEER_A"
check "the peer is in etcd" sh -c "$(declare -f ctl_tls nsx); E=$E TMP=$TMP; ctl_tls get --print-value-only /wgate/$IF/peers/a | grep -q '$PEER_A'"
check "and the gateway runs it" wait_for 5 sh -c "ip netns exec $G $WGATE show $IF peers | grep -qx '$PEER_A'"

refused() { # CONF WANT: wgate peer add with CONF fails, saying WANT, changing nothing
	cp "$TMP/$IF.conf" "$TMP/keep.conf"
	cp "$1" "$TMP/$IF.conf"
	! nsx "$G" "$WGATE" peer add "$IF" b --public-key "$PEER_B" >/dev/null 2>"$TMP/err"
	local failed=$?
	cp "$TMP/keep.conf" "$TMP/$IF.conf"
	[ $failed = 0 ] && grep -q "$2" "$TMP/err" && grep -q "nothing was changed" "$TMP/err" &&
		! ctl_tls get --print-value-only "/wgate/$IF/peers/b" | grep -q .
}
sed "s|^EtcdCACert = .*|EtcdCACert = $TMP/other.pem|" "$TMP/$IF.conf" >"$TMP/wrong-ca.conf"
check "a CA that did not sign the member: refused, and said" refused "$TMP/wrong-ca.conf" "etcd is unreachable or refused: .*10.97.0.1:2379"
grep -v '^EtcdCert\|^EtcdKey' "$TMP/$IF.conf" >"$TMP/no-cert.conf"
check "no client certificate: refused, and said" refused "$TMP/no-cert.conf" "etcd is unreachable or refused"

check "the gateway comes up with etcd's user wgate" up_logged "$G" "$TMP/$IF_U.conf" "$TMP/u.log"
check "and follows etcd" wait_for 5 grep -q "event=etcd_connected" "$TMP/u.log"
check "wgate peer add writes as wgate" nsx "$G" "$WGATE" peer add "$IF_U" a --public-key "$PEER_A"
check "the gateway runs it" wait_for 5 sh -c "ip netns exec $G $WGATE show $IF_U peers | grep -qx '$PEER_A'"
printf 'not-the-password\n' >"$TMP/password"
check "a wrong password: refused, and said" sh -c \
	"! ip netns exec $G $WGATE peer add $IF_U b --public-key $PEER_B 2>$TMP/err >/dev/null && grep -q 'authentication refused' $TMP/err"
check "no password or certificate text in any message" sh -c \
	"! grep -rq -e gatewaypw -e not-the-password -e 'PRIVATE KEY' $TMP/err $TMP/g.log $TMP/u.log"
done_testing
