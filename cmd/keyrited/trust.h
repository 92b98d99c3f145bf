/*
 * trust.h: keyrited's publication of root-rotation bundles
 * (docs/bundle.md, docs/signer.md "Trust bundles").  `keyrited trust
 * publish` verifies a bundle and writes it into HOME/publish/trust/:
 *
 *   bundle.tar, manifest.json, manifest.json.sig    the newest bundle
 *   history/N/bundle.tar, manifest.json, ...sig     every version
 *   history/index.json                              versions and hashes
 *
 * and the publication listener serves that tree under /trust/ from the
 * disk at every request, so a new bundle is served without a restart.
 */
#ifndef KEYRITED_TRUST_H
#define KEYRITED_TRUST_H

#include <stddef.h>
#include <stdio.h>

#include <microhttpd.h>

#define KD_TRUSTDIR		"trust"		/* under publish/ */
#define KD_TRUST_BUNDLE		"bundle.tar"
#define KD_TRUST_INDEX		"index.json"
#define KD_TRUST_HISTORY	"history"
#define KD_TRUST_VERSION_MAX	9007199254740991LL	/* 2^53 - 1 */

/* What a /trust/ URL names. */
enum kd_trust_what {
	KD_TRUST_W_BUNDLE = 1,		/* bundle.tar */
	KD_TRUST_W_MANIFEST,		/* manifest.json */
	KD_TRUST_W_SIG,			/* manifest.json.sig */
	KD_TRUST_W_INDEX,		/* history/ */
};

struct kd_trust_path {
	enum kd_trust_what	 what;
	long long		 version;	/* history/N/..., else 0 */
};

/*
 * Parse a request path: exactly "/trust/bundle.tar",
 * "/trust/manifest.json", "/trust/manifest.json.sig", "/trust/history",
 * "/trust/history/", "/trust/history/index.json", or
 * "/trust/history/N/" + one of the three file names, N a version (1 to
 * 2^53-1, decimal digits, no leading zero).  Anything else, '..',
 * encoded or not, included, is -1; so the file it names, from
 * kd_trust_path_file, is always one publish wrote.
 */
int		 kd_trust_path_parse(const char *url, struct kd_trust_path *p);

/* The file under publish/trust/ that p names, e.g. "history/2/bundle.tar". */
int		 kd_trust_path_file(const struct kd_trust_path *p, char *buf,
		     size_t sz);

/*
 * Answer GET/HEAD url (a path under /trust) from home's publication
 * tree: 200 with Content-Type, ETag (the SHA-256 of the bytes),
 * Last-Modified and Cache-Control (history/N/ never changes, so it may
 * be cached for good; the rest must be revalidated), or 304 when
 * If-None-Match names the ETag.  0 when answered (*ret set), -1 when
 * the path is not one of ours or not published (why says which; the
 * caller sends the 404).
 */
int		 kd_trust_serve(struct MHD_Connection *c, const char *home,
		     const char *url, enum MHD_Result *ret, char *why,
		     size_t whysz);

/* The trust gauges for /metrics. */
void		 kd_trust_metrics(FILE *f, const char *home);

/* keyrited trust publish. */
int		 kd_cmd_trust(int argc, char **argv);

#endif /* KEYRITED_TRUST_H */
