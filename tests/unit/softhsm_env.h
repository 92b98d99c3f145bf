/*
 * softhsm_env.h: a throwaway SoftHSM2 token directory for one test
 * program: a temp dir, a softhsm2.conf pointing at it, SOFTHSM2_CONF set.
 * Header-only so each test program stays one file.
 */
#ifndef SOFTHSM_ENV_H
#define SOFTHSM_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char softhsm_dir[256];

/* Create the token directory and config; returns 0 on success. */
static int
softhsm_env_setup(void)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(softhsm_dir, sizeof(softhsm_dir), "%s/keyrite-hsm-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(softhsm_dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/tokens", softhsm_dir);
	if (mkdir(path, 0700) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/softhsm2.conf", softhsm_dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "directories.tokendir = %s/tokens\n"
	    "objectstore.backend = file\nlog.level = ERROR\n", softhsm_dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", path, 1);
	(void)cmd;
	return 0;
}

/* Remove the token directory. */
static void
softhsm_env_teardown(void)
{
	char cmd[600];

	if (softhsm_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", softhsm_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", softhsm_dir);
}

#endif /* SOFTHSM_ENV_H */
