/*
 * trustpath.c: the request paths of /trust/ (trust.h).  Kept apart, with
 * no dependencies, so the fuzz target and the unit table compile it
 * alone.  A path is accepted only if it is, byte for byte, one of the
 * names publish writes: there is nothing to normalise, so '..', '//',
 * '%2e' and friends can never name another file.
 */
#include <stdio.h>
#include <string.h>

#include "trust.h"

static const struct {
	const char		*name;
	enum kd_trust_what	 what;
} trust_files[] = {
	{ "bundle.tar", KD_TRUST_W_BUNDLE },
	{ "manifest.json", KD_TRUST_W_MANIFEST },
	{ "manifest.json.sig", KD_TRUST_W_SIG },
};
#define NFILES (sizeof(trust_files) / sizeof(trust_files[0]))

static int
file_of(const char *s, enum kd_trust_what *w)
{
	size_t i;

	for (i = 0; i < NFILES; i++)
		if (strcmp(s, trust_files[i].name) == 0) {
			*w = trust_files[i].what;
			return 0;
		}
	return -1;
}

/* "N/" with N a version; the rest after the slash into *rest. */
static int
version_of(const char *s, long long *v, const char **rest)
{
	long long n = 0;
	size_t i;

	if (s[0] < '1' || s[0] > '9')
		return -1;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 16)
			return -1;	/* more digits than 2^53 has */
		n = n * 10 + (s[i] - '0');
	}
	if (s[i] != '/' || n > KD_TRUST_VERSION_MAX)
		return -1;
	*v = n;
	*rest = s + i + 1;
	return 0;
}

int
kd_trust_path_parse(const char *url, struct kd_trust_path *p)
{
	static const char top[] = "/trust/", hist[] = "history";
	const char *s, *rest;

	memset(p, 0, sizeof(*p));
	if (url == NULL || strncmp(url, top, sizeof(top) - 1) != 0)
		return -1;
	s = url + sizeof(top) - 1;
	if (file_of(s, &p->what) == 0)
		return 0;
	if (strncmp(s, hist, sizeof(hist) - 1) != 0)
		return -1;
	s += sizeof(hist) - 1;
	if (strcmp(s, "") == 0 || strcmp(s, "/") == 0 ||
	    strcmp(s, "/" KD_TRUST_INDEX) == 0) {
		p->what = KD_TRUST_W_INDEX;
		return 0;
	}
	if (s[0] != '/' || version_of(s + 1, &p->version, &rest) != 0 ||
	    file_of(rest, &p->what) != 0) {
		memset(p, 0, sizeof(*p));
		return -1;
	}
	return 0;
}

int
kd_trust_path_file(const struct kd_trust_path *p, char *buf, size_t sz)
{
	size_t i;
	int n;

	if (p->what == KD_TRUST_W_INDEX)
		n = snprintf(buf, sz, "%s/%s", KD_TRUST_HISTORY,
		    KD_TRUST_INDEX);
	else {
		for (i = 0; i < NFILES && trust_files[i].what != p->what; i++)
			;
		if (i == NFILES)
			return -1;
		if (p->version > 0)
			n = snprintf(buf, sz, "%s/%lld/%s", KD_TRUST_HISTORY,
			    p->version, trust_files[i].name);
		else
			n = snprintf(buf, sz, "%s", trust_files[i].name);
	}
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}
