// SPDX-License-Identifier: MIT
/* wgate pubkey: a private key on stdin, its public key on stdout, as wg pubkey. */
#include <ctype.h>
#include <stdio.h>

#include "cmd/commands.h"
#include "core/crypto.h"
#include "core/encoding.h"

int cmd_pubkey(int argc, char **argv)
{
	uint8_t private_key[KEY_LEN], public_key[KEY_LEN];
	char base64[KEY_BASE64_LEN + 1];
	int ret = 1, c;

	if (argc != 1) {
		bool help = wants_help(argc, argv);

		fprintf(
		    help ? stdout : stderr,
		    "Usage: wgate pubkey < privatekey\n\n"
		    "Reads a base64 private key from stdin and writes its public key to stdout.\n");
		return !help;
	}
	if (fread(base64, 1, KEY_BASE64_LEN, stdin) != KEY_BASE64_LEN) {
		cli_error("wgate pubkey: Key is not the correct length or format\n");
		goto out;
	}
	base64[KEY_BASE64_LEN] = '\0';
	/* Only whitespace may follow the key, as wg(8) allows. */
	while ((c = getchar()) != EOF) {
		if (c && !isspace(c)) {
			cli_error("wgate pubkey: Trailing characters found after key\n");
			goto out;
		}
	}
	if (!key_from_base64(private_key, base64)) {
		cli_error("wgate pubkey: Key is not the correct length or format\n");
		goto out;
	}
	if (!x25519_public(public_key, private_key)) {
		cli_error("wgate pubkey: OpenSSL could not derive the public key\n");
		goto out;
	}
	key_to_base64(base64, public_key);
	if (puts(base64) < 0 || fflush(stdout)) {
		perror("wgate pubkey: cannot write the key");
		goto out;
	}
	ret = 0;
out:
	crypto_wipe(private_key, sizeof(private_key));
	crypto_wipe(base64, sizeof(base64));
	return ret;
}
