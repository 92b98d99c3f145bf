/*
 * profile.h: certificate profiles (root, intermediate, tls-server,
 * tls-client), read from strict YAML.  Knows nothing of HSMs or HTTP.
 */
#ifndef POL_PROFILE_H
#define POL_PROFILE_H

#include "../common/kr.h"

enum pol_kind {
	POL_KIND_ROOT = 1,		/* self-signed CA */
	POL_KIND_INTERMEDIATE = 2,	/* CA signed by a root */
	POL_KIND_LEAF = 3,		/* end entity */
};

/* Key types a profile may allow for the certified (subject) key. */
#define POL_KEY_EC_P256		0x01u
#define POL_KEY_EC_P384		0x02u
#define POL_KEY_RSA_2048	0x04u
#define POL_KEY_RSA_3072	0x08u
#define POL_KEY_RSA_4096	0x10u

/* Extended key usages. */
#define POL_EKU_SERVER_AUTH	0x01u
#define POL_EKU_CLIENT_AUTH	0x02u

/* What the profile says of name constraints. */
enum pol_nc {
	POL_NC_FORBIDDEN = 0,	/* must not be present (leaves) */
	POL_NC_OPTIONAL = 1,	/* may be present */
	POL_NC_REQUIRED = 2,	/* must be present, critical */
};

struct pol_profile {
	char		 name[64];	/* "intermediate" */
	char		 source[256];	/* file it was read from */
	enum pol_kind	 kind;
	long long	 max_validity;	/* seconds */
	long long	 default_validity; /* seconds, <= max_validity */
	long long	 backdate;	/* seconds notBefore lies before now */
	int		 path_len;	/* CA pathLenConstraint, -1 = none */
	unsigned	 key_usage;	/* exact KU bits, X509v3_KU_* values */
	unsigned	 ext_key_usage;	/* POL_EKU_*, 0 = no EKU extension */
	unsigned	 key_types;	/* POL_KEY_* allowed subject keys */
	int		 require_san;	/* leaves: SAN must be present */
	enum pol_nc	 name_constraints;
	int		 require_cdp;	/* CRL distribution point required */
	int		 require_aia;	/* AIA caIssuers required */
};

/*
 * Parse one profile from YAML text.  Unknown keys, missing required
 * keys, wrong types and out-of-range values are errors naming the file
 * (name, for messages) and line.  On success fills *out.
 */
enum kr_err	 pol_profile_parse(const char *text, size_t len,
		     const char *name, struct pol_profile *out,
		     struct kr_error *err);

/* Read and parse a profile file. */
enum kr_err	 pol_profile_load(const char *path, struct pol_profile *out,
		     struct kr_error *err);

/*
 * Find profile NAME (a bare name like "intermediate", or a path to a
 * .yaml file): in $KEYRITE_PROFILE_DIR, then the installed directory
 * (KEYRITE_DATADIR/profiles), then ./profiles.
 */
enum kr_err	 pol_profile_find(const char *name, struct pol_profile *out,
		     struct kr_error *err);

/* "ec-p384" -> POL_KEY_EC_P384, 0 if unknown. */
unsigned	 pol_key_type_from_name(const char *);

/* POL_KEY_EC_P384 -> "ec-p384"; NULL unless exactly one known bit. */
const char	*pol_key_type_name(unsigned);

/* POL_KIND_ROOT -> "root" (static string). */
const char	*pol_kind_name(enum pol_kind);

/*
 * X509v3_KU_* bits as "keyCertSign, cRLSign" into buf (always
 * NUL-terminated, "(none)" for 0).
 */
void		 pol_key_usage_names(unsigned ku, char *buf, size_t sz);

#endif /* POL_PROFILE_H */
