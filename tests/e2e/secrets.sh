#!/usr/bin/env bash
# Key material leaves no copies behind in the daemon's memory: after control
# requests that carry keys both ways (wg showconf, wg set private-key,
# preshared keys), a reload and many answers of growing size, the daemon's
# memory holds no key in text form (hex as the control protocol carries it,
# base64 as the config does), only the raw bytes the device needs.
# Topology: netns.bash; A runs wgate, B wireguard-go.
source "$(dirname "$0")/netns.bash"

if ! netns_setup; then
	not_ok "network namespaces can be created (needs root)"
	done_testing
	exit
fi
conf_for a "$PSK" 4 | start_wgate a
conf_for b "$PSK" 4 | start_wggo b
monitor=$(head -n1 /run/wgate/"$IF_A".pid)
pid=$(cat /proc/"$monitor"/task/*/children | awk '{print $1}') # the sandboxed child holds the keys
check "the tunnel is up" ping_ok in_b 10.241.0.1

# Exercise every path that carries keys as text.
NEW_KEY=$(wg genkey)
NEW_PSK=$(wg genpsk)
exercise() {
	local i
	for i in $(seq 1 5); do in_a wg showconf "$IF_A" >/dev/null || return 1; done
	printf '%s\n' "$NEW_KEY" >"$TMP/new.key"
	printf '%s\n' "$NEW_PSK" >"$TMP/new.psk"
	in_a wg set "$IF_A" private-key "$TMP/new.key" peer "$PUB_B" preshared-key "$TMP/new.psk" || return 1
	# answers that grow past several buffer sizes: 300 peers, each with a preshared key
	for i in $(seq 1 300); do
		printf 'peer %s preshared-key %s allowed-ips 10.250.%d.%d/32 ' \
			"$(printf '%064x' "$i" | xxd -r -p | base64)" "$TMP/new.psk" $((i / 256)) $((i % 256))
	done | xargs ip netns exec "$NS_A" wg set "$IF_A" || return 1
	for i in $(seq 1 5); do in_a wg showconf "$IF_A" >/dev/null || return 1; done
	"$WGATE" reload "$IF_A" >/dev/null || return 1 # the file's key and psk come back
	for i in $(seq 1 3); do in_a wg showconf "$IF_A" >/dev/null || return 1; done
}
check "showconf, set with keys, 300 preshared keys and a reload" exercise

# find_in_memory PID NEEDLE...: how many times any needle occurs in the process's writable
# memory (heap, stacks, anonymous maps); a needle is text, or raw:HEX for bytes.
find_in_memory() {
	python3 - "$@" <<'PY'
import sys
pid = sys.argv[1]
needles = [bytes.fromhex(n[4:]) if n.startswith("raw:") else n.encode() for n in sys.argv[2:]]
found = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        parts = line.split()
        if "w" not in parts[1]:
            continue
        start, end = (int(x, 16) for x in parts[0].split("-"))
        if end - start > 1 << 32:
            continue  # a sanitizer's shadow memory: reserved, never a heap
        overlap = b""
        for at in range(start, end, 1 << 24):  # in 16 MiB pieces, overlapping by a needle
            try:
                mem.seek(at)
                data = overlap + mem.read(min(1 << 24, end - at))
            except OSError:
                break
            for n in needles:
                found += data.count(n)
            overlap = data[-100:]  # a match at a seam may count twice: the checks ask none or some
print(found)
PY
}
hex_of() { base64 -d <<<"$1" | xxd -p -c 64; }
# the keys in text form, as the daemon ever saw them
KEY_A_HEX=$(hex_of "$KEY_A") PSK_HEX=$(hex_of "$PSK")
NEW_KEY_HEX=$(hex_of "$NEW_KEY") NEW_PSK_HEX=$(hex_of "$NEW_PSK")
for p in "$pid" "$monitor"; do
	copies=$(find_in_memory "$p" "$KEY_A_HEX" "$PSK_HEX" "$NEW_KEY_HEX" "$NEW_PSK_HEX" \
		"${KEY_A:0:40}" "${PSK:0:40}" "${NEW_KEY:0:40}" "${NEW_PSK:0:40}")
	check "no private or preshared key in hex or base64 in the memory of pid $p ($copies found)" \
		test "$copies" = 0
done
# the control: the raw private key is there (the device needs it), so the scan sees memory
raw=raw:$(hex_of "$KEY_A")
check "control: the scan finds the raw private key the device holds" \
	test "$(find_in_memory "$pid" "$raw")" -gt 0
check "the monitor (root) holds no raw private key: the child has the device" \
	test "$(find_in_memory "$monitor" "$raw")" = 0
# A's sessions ended with its key change: A starts the new handshake
check "the tunnel works again with the file's keys" ping_ok in_a 10.241.0.2
done_testing
