#!/usr/bin/env bash
# PeerDirectory (wgate(8), HIGH AVAILABILITY): a gateway's peers come from a
# watched directory of peer files, as Ansible drops them or Kubernetes mounts
# them. Files added, changed and removed apply without a command; a bad file
# changes nothing and is reported; a Kubernetes volume's "..data" swap applies.
#
#   A  va 192.168.91.2 -- ga 192.168.91.1 \
#   B  vb 192.168.92.2 -- gb 192.168.92.1  GW (wgate 10.79.0.1/24, peers in $TMP/peers.d)
source "$(dirname "$0")/hosts.bash"
umask 077

GW=wgd-gw-$$ A=wgd-a-$$ B=wgd-b-$$
IF=dg$$ IF_A=da$$ IF_B=db$$
interfaces_used "$IF" "$IF_A" "$IF_B"
setup() {
	hosts_add "$GW" "$A" "$B" || return 1
	veth "$GW" "$A" a 91 && veth "$GW" "$B" b 92
}
setup_or_end setup

KEY_GW=$(wg genkey) KEY_A=$(wg genkey) KEY_B=$(wg genkey)
PUB_GW=$(wg pubkey <<<"$KEY_GW") PUB_A=$(wg pubkey <<<"$KEY_A") PUB_B=$(wg pubkey <<<"$KEY_B")
DIR=$TMP/peers.d
mkdir -p "$DIR"
cat >"$TMP/$IF.conf" <<EOF
[Interface]
PrivateKey = $KEY_GW
ListenPort = 51820
Address = 10.79.0.1/24
PeerDirectory = $DIR
EOF
peer_file() { # NAME KEY ADDRESS
	printf '[Peer]\nName = %s\nPublicKey = %s\nAllowedIPs = %s/32\n' "$1" "$2" "$3"
}
client_conf() { # KEY ADDRESS ENDPOINT
	printf '[Interface]\nPrivateKey = %s\nAddress = %s/24\n\n[Peer]\nPublicKey = %s\n' "$1" "$2" "$PUB_GW"
	printf 'Endpoint = %s:51820\nAllowedIPs = 10.79.0.0/24\nPersistentKeepalive = 1\n' "$3"
}
peer_file client-a "$PUB_A" 10.79.0.2 >"$DIR/client-a.conf"
printf '# notes, not a peer file\n' >"$DIR/README"
client_conf "$KEY_A" 10.79.0.2 192.168.91.1 >"$TMP/$IF_A.conf"
client_conf "$KEY_B" 10.79.0.3 192.168.92.1 >"$TMP/$IF_B.conf"

reaches() { ip netns exec "$1" ping -c 1 -W 1 10.79.0.1 >/dev/null 2>&1; }
wait_for() { # SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done
}
running_names() { ip netns exec "$GW" "$WGATE" show "$IF" dump >/dev/null && ip netns exec "$GW" "$WGATE" show "$IF" --json; }
runs() { running_names | grep -q "\"$1\""; } # NAME: a running peer has that name

check "the gateway comes up with the peer of its directory" up_logged "$GW" "$TMP/$IF.conf" "$TMP/gw.log"
check "client A comes up" up_logged "$A" "$TMP/$IF_A.conf" "$TMP/a.log"
check "client B comes up" up_logged "$B" "$TMP/$IF_B.conf" "$TMP/b.log"
check "A, in the directory, reaches the gateway" wait_for 12 reaches "$A"
check "control: B, in no file yet, does not" sh -c "! ip netns exec $B ping -c 2 -W 1 10.79.0.1"

# a file added: applied without a command, within a second or so
start=$(date +%s%3N)
peer_file client-b "$PUB_B" 10.79.0.3 >"$DIR/.client-b.tmp" && mv "$DIR/.client-b.tmp" "$DIR/client-b.conf"
check "a file added: the gateway runs B's peer" wait_for 5 runs client-b
diag "the gateway ran B's peer $(($(date +%s%3N) - start)) ms after its file appeared"
check "and B reaches the gateway (at its next handshake retry)" wait_for 12 reaches "$B"
check "the log says the directory changed and the reload applied" sh -c \
	"grep -q 'event=peer_directory_changed path=$DIR' '$TMP/gw.log' && grep -q 'event=config_reloaded' '$TMP/gw.log'"

# a file changed: B's name
sed -i 's/^Name = client-b$/Name = partner-b/' "$DIR/client-b.conf"
check "a file changed: the new name is the running one" wait_for 5 runs partner-b

# wgate peer refuses to edit what the directory holds
check "wgate peer remove names the file that holds the peer" sh -c \
	"ip netns exec $GW $WGATE peer remove $IF partner-b 2>&1 | grep -q 'defined in $DIR/client-b.conf (PeerDirectory)'"

# a file removed: A is let in no more
rm "$DIR/client-a.conf"
check "a file removed: A no longer reaches the gateway" wait_for 5 sh -c "! ip netns exec $A ping -c 1 -W 1 10.79.0.1"
check "and B still does" reaches "$B"

# a bad file: nothing changes, and it is reported
printf '[Peer]\nPublicKey = not-a-key\n' >"$DIR/broken.conf"
peer_file client-a "$PUB_A" 10.79.0.2 >"$DIR/client-a.conf"
check "a bad file is reported with its name and line" wait_for 5 grep -q "event=reload_failed error=\"$DIR/broken.conf:2: PublicKey" "$TMP/gw.log"
check "the reload report says so too" grep -q "status=error message=$DIR/broken.conf:2" "/run/wgate/$IF.reload"
check "nothing of that change applied: A (added with it) is still out" sh -c "! ip netns exec $A ping -c 1 -W 1 10.79.0.1"
check "and B still reaches the gateway" reaches "$B"
rm "$DIR/broken.conf"
check "the bad file removed, the rest applies: the gateway runs A's peer again" wait_for 5 runs client-a
# A's client still holds the session the gateway forgot: it would notice only after
# WireGuard's 15 + 5 s; a client that reconnects is let in at once
restart() { ip netns exec "$1" "$WGATE" down "$2" && up_logged "$1" "$TMP/$2.conf" "$TMP/$1.log"; }
check "A, reconnecting, reaches the gateway" sh -c "$(declare -f restart up_logged wait_for reaches); WGATE=$WGATE TMP=$TMP; restart $A $IF_A && wait_for 12 reaches $A"

# a file in another file's place: the same key twice is refused, naming both files
peer_file copy "$PUB_A" 10.79.0.9 >"$DIR/copy.conf"
check "the same key in two files is refused, naming both" wait_for 5 grep -q "$DIR/copy.conf:1: this \[Peer\] repeats the PublicKey of the \[Peer\] at $DIR/client-a.conf:1" "$TMP/gw.log"
rm "$DIR/copy.conf"

# a Kubernetes volume: files are links into ..data, which is swapped in one rename
rm "$DIR"/*.conf
mkdir "$DIR/..2026_11_30_v1"
peer_file client-a "$PUB_A" 10.79.0.2 >"$DIR/..2026_11_30_v1/client-a.conf"
ln -s ..2026_11_30_v1 "$DIR/..data_tmp" && mv -T "$DIR/..data_tmp" "$DIR/..data"
ln -s ..data/client-a.conf "$DIR/client-a.conf"
check "a Kubernetes-style volume: the gateway runs A's peer, and B's no more" \
	wait_for 5 sh -c "$(declare -f running_names runs); WGATE=$WGATE GW=$GW IF=$IF; runs client-a && ! runs partner-b"
mkdir "$DIR/..2026_11_30_v2"
peer_file client-a "$PUB_A" 10.79.0.2 >"$DIR/..2026_11_30_v2/client-a.conf"
peer_file client-b "$PUB_B" 10.79.0.3 >"$DIR/..2026_11_30_v2/client-b.conf"
ln -s ..2026_11_30_v2 "$DIR/..data_tmp" && mv -T "$DIR/..data_tmp" "$DIR/..data"
ln -s ..data/client-b.conf "$DIR/client-b.conf"
rm -rf "$DIR/..2026_11_30_v1"
check "the volume updated (..data swapped): the gateway runs B's peer" wait_for 5 runs client-b
check "and B, reconnecting, reaches it" sh -c "$(declare -f restart up_logged wait_for reaches); WGATE=$WGATE TMP=$TMP; restart $B $IF_B && wait_for 12 reaches $B"
check "wgate check reads the directory's peers, and names their files" sh -c \
	"ip netns exec $GW $WGATE check $IF --json --no-probe | grep -q '$DIR/client-'"
done_testing
