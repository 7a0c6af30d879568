// SPDX-License-Identifier: MIT
/* wgate genkey and wgate genpsk: the same contract as wg genkey and wg genpsk. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "core/crypto.h"
#include "core/encoding.h"

static int generate(int argc, char **argv, bool clamp)
{
	uint8_t key[KEY_LEN];
	char base64[KEY_BASE64_LEN + 1];
	struct stat st;
	int ret = 1;

	if (wants_help(argc, argv) || argc != 1) {
		fprintf(
		    argc == 1 || wants_help(argc, argv) ? stdout : stderr,
		    "Usage: wgate %s\n\n%s\n", argv[0],
		    clamp
			? "Writes a new random Curve25519 private key, base64-encoded, to stdout.\n"
			  "Make its file private first: umask 077; wgate genkey > privatekey\n"
			: "Writes a new random 256-bit preshared key, base64-encoded, to stdout.");
		return argc != 1 && !wants_help(argc, argv);
	}
	if (!fstat(STDOUT_FILENO, &st) && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
		fputs("Warning: writing to world accessible file.\n"
		      "Consider setting the umask to 077 and trying again.\n",
		      stderr);
	if (!(clamp ? x25519_generate(key) : crypto_random(key, sizeof(key)))) {
		cli_error("wgate %s: the system random number generator failed\n", argv[0]);
		goto out;
	}
	key_to_base64(base64, key);
	if (puts(base64) < 0 || fflush(stdout)) {
		perror("wgate: cannot write the key");
		goto out;
	}
	ret = 0;
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(base64, sizeof(base64));
	return ret;
}

int cmd_genkey(int argc, char **argv)
{
	return generate(argc, argv, true);
}

int cmd_genpsk(int argc, char **argv)
{
	return generate(argc, argv, false);
}
