/*
 * hsm.c: the PKCS#11 layer, on raw Cryptoki calls through the module's
 * function list (dlopen + C_GetFunctionList).  One module load per
 * process serves token listing, key generation, signing, and (for
 * backups) wrapping, which no convenience library exposes.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <p11-kit/pkcs11.h>

#include "hsm.h"

struct hsm_module {
	void			*dl;
	CK_FUNCTION_LIST_PTR	 f;
	char			 path[512];
	char			 desc[96];
};

struct hsm_session {
	struct hsm_module	*m;
	CK_SLOT_ID		 slot;
	CK_SESSION_HANDLE	 h;
	int			 logged_in;
	char			 label[33];
	char			 serial[17];
};

struct hsm_key {
	struct hsm_session	*s;
	CK_OBJECT_HANDLE	 priv;
	CK_OBJECT_HANDLE	 pub;	/* CK_INVALID_HANDLE if none */
	enum hsm_keytype	 type;
	EVP_PKEY		*pkey;	/* public half */
	char			 label[129];
	uint8_t			 id[HSM_URI_ID_MAX];
	size_t			 id_len;
};

/* CKR_ values an operator may meet, with what they mean. */
static const struct {
	CK_RV		 rv;
	const char	*name;
	const char	*meaning;
} ckr_table[] = {
#define R(x, m) { x, #x, m }
	R(CKR_OK, "success"),
	R(CKR_CANCEL, "the operation was cancelled"),
	R(CKR_HOST_MEMORY, "the module ran out of memory"),
	R(CKR_SLOT_ID_INVALID, "no such slot"),
	R(CKR_GENERAL_ERROR, "the module failed in an unrecoverable way"),
	R(CKR_FUNCTION_FAILED, "the module could not perform the function"),
	R(CKR_ARGUMENTS_BAD, "the module rejected the arguments"),
	R(CKR_ATTRIBUTE_READ_ONLY, "an attribute cannot be set"),
	R(CKR_ATTRIBUTE_SENSITIVE, "the attribute is sensitive and cannot be read"),
	R(CKR_ATTRIBUTE_TYPE_INVALID, "the module does not know this attribute"),
	R(CKR_ATTRIBUTE_VALUE_INVALID, "an attribute value is not acceptable"),
	R(CKR_DATA_INVALID, "the data to sign or encrypt is invalid"),
	R(CKR_DATA_LEN_RANGE, "the data has the wrong length"),
	R(CKR_DEVICE_ERROR, "the token reported a hardware error"),
	R(CKR_DEVICE_MEMORY, "the token is out of memory"),
	R(CKR_DEVICE_REMOVED, "the token was removed"),
	R(CKR_FUNCTION_NOT_SUPPORTED, "the module does not support this function"),
	R(CKR_KEY_HANDLE_INVALID, "the key handle is not valid"),
	R(CKR_KEY_SIZE_RANGE, "the token does not support this key size"),
	R(CKR_KEY_TYPE_INCONSISTENT, "the key does not fit the mechanism"),
	R(CKR_KEY_FUNCTION_NOT_PERMITTED, "the key's attributes forbid this use"),
	R(CKR_KEY_NOT_WRAPPABLE, "the key cannot be wrapped"),
	R(CKR_KEY_UNEXTRACTABLE, "the key is not extractable (CKA_EXTRACTABLE false)"),
	R(CKR_MECHANISM_INVALID, "the token does not support this mechanism"),
	R(CKR_MECHANISM_PARAM_INVALID, "the mechanism parameters are invalid"),
	R(CKR_OBJECT_HANDLE_INVALID, "the object handle is not valid"),
	R(CKR_OPERATION_ACTIVE, "another operation is active in the session"),
	R(CKR_OPERATION_NOT_INITIALIZED, "no operation was initialised"),
	R(CKR_PIN_INCORRECT, "the PIN is wrong"),
	R(CKR_PIN_INVALID, "the PIN has invalid characters"),
	R(CKR_PIN_LEN_RANGE, "the PIN is too long or too short for the token"),
	R(CKR_PIN_EXPIRED, "the PIN has expired"),
	R(CKR_PIN_LOCKED, "the PIN is locked after too many wrong tries"),
	R(CKR_SESSION_CLOSED, "the session was closed"),
	R(CKR_SESSION_COUNT, "the token has too many open sessions"),
	R(CKR_SESSION_HANDLE_INVALID, "the session handle is not valid"),
	R(CKR_SESSION_READ_ONLY, "the session is read-only"),
	R(CKR_SESSION_EXISTS, "a session is open on the token"),
	R(CKR_SESSION_READ_ONLY_EXISTS, "a read-only session exists"),
	R(CKR_SIGNATURE_INVALID, "the signature is invalid"),
	R(CKR_TEMPLATE_INCOMPLETE, "the template lacks a required attribute"),
	R(CKR_TEMPLATE_INCONSISTENT, "the template's attributes conflict"),
	R(CKR_TOKEN_NOT_PRESENT, "no token in the slot"),
	R(CKR_TOKEN_NOT_RECOGNIZED, "the token is not recognised"),
	R(CKR_TOKEN_WRITE_PROTECTED, "the token is write-protected"),
	R(CKR_UNWRAPPING_KEY_HANDLE_INVALID, "the unwrapping key is not valid"),
	R(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, "the unwrapping key has the wrong type"),
	R(CKR_USER_ALREADY_LOGGED_IN, "already logged in"),
	R(CKR_USER_NOT_LOGGED_IN, "log in first"),
	R(CKR_USER_PIN_NOT_INITIALIZED, "the user PIN was never set (C_InitPIN)"),
	R(CKR_USER_TYPE_INVALID, "invalid user type"),
	R(CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "another user is logged in"),
	R(CKR_WRAPPED_KEY_INVALID, "the wrapped key is corrupt or was wrapped with another key"),
	R(CKR_WRAPPED_KEY_LEN_RANGE, "the wrapped key has an impossible length"),
	R(CKR_WRAPPING_KEY_HANDLE_INVALID, "the wrapping key is not valid"),
	R(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, "the wrapping key has the wrong type"),
	R(CKR_RANDOM_NO_RNG, "the token has no random number generator"),
	R(CKR_BUFFER_TOO_SMALL, "the output buffer is too small"),
	R(CKR_CRYPTOKI_NOT_INITIALIZED, "C_Initialize was not called"),
	R(CKR_CRYPTOKI_ALREADY_INITIALIZED, "the module is initialised already"),
	R(CKR_CURVE_NOT_SUPPORTED, "the token does not support this curve"),
#undef R
};

const char *
hsm_ckr_name(unsigned long rv)
{
	size_t i;

	for (i = 0; i < sizeof(ckr_table) / sizeof(ckr_table[0]); i++)
		if (ckr_table[i].rv == rv)
			return ckr_table[i].name;
	return "CKR_(unknown)";
}

const char *
hsm_ckr_meaning(unsigned long rv)
{
	size_t i;

	for (i = 0; i < sizeof(ckr_table) / sizeof(ckr_table[0]); i++)
		if (ckr_table[i].rv == rv)
			return ckr_table[i].meaning;
	return "the module returned an undocumented code";
}

/* Record a PKCS#11 failure of function fn. */
static enum kr_err
p11_fail(struct kr_error *err, const char *fn, CK_RV rv)
{
	enum kr_err code = KR_E_PKCS11;

	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED ||
	    rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID)
		code = KR_E_AUTH;
	return kr_fail(err, code, "%s failed: %s (0x%lx): %s", fn,
	    hsm_ckr_name(rv), (unsigned long)rv, hsm_ckr_meaning(rv));
}

static const struct {
	enum hsm_keytype t;
	const char	*name;
} keytypes[] = {
	{ HSM_KEY_EC_P256, "ec-p256" },
	{ HSM_KEY_EC_P384, "ec-p384" },
	{ HSM_KEY_RSA_3072, "rsa-3072" },
	{ HSM_KEY_RSA_4096, "rsa-4096" },
	{ HSM_KEY_RSA_2048, "rsa-2048" },
	{ HSM_KEY_OTHER, "other" },
};

enum hsm_keytype
hsm_keytype_from_name(const char *s)
{
	size_t i;

	/* rsa-2048 and other exist in tokens but are never generated. */
	for (i = 0; s != NULL && i < 4; i++)
		if (strcmp(keytypes[i].name, s) == 0)
			return keytypes[i].t;
	return HSM_KEY_NONE;
}

const char *
hsm_keytype_name(enum hsm_keytype t)
{
	size_t i;

	for (i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++)
		if (keytypes[i].t == t)
			return keytypes[i].name;
	return "none";
}

/* Copy a blank-padded PKCS#11 string into a NUL-terminated one. */
static void
p11_str(char *dst, size_t dstsz, const unsigned char *src, size_t n)
{
	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
		n--;
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

const char *
hsm_default_module(void)
{
	static const char *const candidates[] = {
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/local/lib/softhsm/libsofthsm2.so",
	};
	const char *e;
	size_t i;

	e = getenv("KEYRITE_PKCS11_MODULE");
	if (e != NULL && *e != '\0')
		return e;
	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (access(candidates[i], R_OK) == 0)
			return candidates[i];
	return NULL;
}

enum kr_err
hsm_module_load(const char *path, struct hsm_module **out,
    struct kr_error *err)
{
	CK_C_INITIALIZE_ARGS args;
	CK_C_GetFunctionList gfl;
	CK_INFO info;
	struct hsm_module *m;
	CK_RV rv;
	enum kr_err rc;

	*out = NULL;
	if (path == NULL && (path = hsm_default_module()) == NULL)
		return kr_fail(err, KR_E_NOTFOUND, "no PKCS#11 module given "
		    "and SoftHSM2 is not installed; use --module PATH or set "
		    "KEYRITE_PKCS11_MODULE");
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	snprintf(m->path, sizeof(m->path), "%s", path);
	if ((m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		rc = kr_fail(err, KR_E_NOTFOUND, "PKCS#11 module %s: %s", path,
		    dlerror());
		goto fail;
	}
	*(void **)&gfl = dlsym(m->dl, "C_GetFunctionList");
	if (gfl == NULL) {
		rc = kr_fail(err, KR_E_PKCS11, "%s is not a PKCS#11 module "
		    "(no C_GetFunctionList)", path);
		goto fail;
	}
	if ((rv = gfl(&m->f)) != CKR_OK) {
		rc = p11_fail(err, "C_GetFunctionList", rv);
		goto fail;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = m->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		rc = p11_fail(err, "C_Initialize", rv);
		if (rv == CKR_GENERAL_ERROR)
			kr_error_prefix(err, "%s (is SOFTHSM2_CONF set to a "
			    "readable file with a token directory?)", path);
		m->f = NULL;
		goto fail;
	}
	if (m->f->C_GetInfo(&info) == CKR_OK) {
		char man[33], desc[33];

		p11_str(man, sizeof(man), info.manufacturerID, 32);
		p11_str(desc, sizeof(desc), info.libraryDescription, 32);
		snprintf(m->desc, sizeof(m->desc), "%s %u.%u (%s)", desc,
		    info.libraryVersion.major, info.libraryVersion.minor, man);
	}
	*out = m;
	return KR_OK;
fail:
	if (m->dl != NULL)
		dlclose(m->dl);
	free(m);
	return rc;
}

void
hsm_module_free(struct hsm_module *m)
{
	if (m == NULL)
		return;
	if (m->f != NULL)
		m->f->C_Finalize(NULL);
	if (m->dl != NULL)
		dlclose(m->dl);
	free(m);
}

const char *
hsm_module_description(const struct hsm_module *m)
{
	return m->desc;
}

const char *
hsm_module_path(const struct hsm_module *m)
{
	return m->path;
}

static unsigned
slot_mechs(struct hsm_module *m, CK_SLOT_ID slot)
{
	CK_MECHANISM_TYPE *mt = NULL;
	CK_ULONG n = 0, i;
	unsigned bits = 0;

	if (m->f->C_GetMechanismList(slot, NULL, &n) != CKR_OK || n == 0)
		return 0;
	if ((mt = calloc(n, sizeof(*mt))) == NULL)
		return 0;
	if (m->f->C_GetMechanismList(slot, mt, &n) == CKR_OK) {
		for (i = 0; i < n; i++) {
			switch (mt[i]) {
			case CKM_EC_KEY_PAIR_GEN: bits |= HSM_MECH_EC_KEYGEN; break;
			case CKM_ECDSA: bits |= HSM_MECH_ECDSA; break;
			case CKM_RSA_PKCS_KEY_PAIR_GEN: bits |= HSM_MECH_RSA_KEYGEN; break;
			case CKM_RSA_PKCS: bits |= HSM_MECH_RSA_PKCS; break;
			case CKM_AES_KEY_WRAP_PAD: bits |= HSM_MECH_AES_WRAP_PAD; break;
			case CKM_EDDSA: bits |= HSM_MECH_EDDSA; break;
			default: break;
			}
		}
	}
	free(mt);
	return bits;
}

enum kr_err
hsm_tokens(struct hsm_module *m, struct hsm_token_info **out, size_t *nout,
    struct kr_error *err)
{
	CK_SLOT_ID *slots = NULL;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	struct hsm_token_info *t = NULL;
	CK_ULONG n = 0, i;
	CK_RV rv;
	enum kr_err rc;

	*out = NULL;
	*nout = 0;
	if ((rv = m->f->C_GetSlotList(CK_FALSE, NULL, &n)) != CKR_OK)
		return p11_fail(err, "C_GetSlotList", rv);
	if (n == 0)
		return KR_OK;
	slots = calloc(n, sizeof(*slots));
	t = calloc(n, sizeof(*t));
	if (slots == NULL || t == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rv = m->f->C_GetSlotList(CK_FALSE, slots, &n)) != CKR_OK) {
		rc = p11_fail(err, "C_GetSlotList", rv);
		goto out;
	}
	for (i = 0; i < n; i++) {
		t[i].slot = slots[i];
		if (m->f->C_GetSlotInfo(slots[i], &si) != CKR_OK)
			continue;
		p11_str(t[i].slot_description, sizeof(t[i].slot_description),
		    si.slotDescription, sizeof(si.slotDescription));
		if (!(si.flags & CKF_TOKEN_PRESENT))
			continue;
		t[i].present = 1;
		if (m->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		t[i].initialized = !!(ti.flags & CKF_TOKEN_INITIALIZED);
		t[i].user_pin_initialized =
		    !!(ti.flags & CKF_USER_PIN_INITIALIZED);
		t[i].user_pin_locked = !!(ti.flags & CKF_USER_PIN_LOCKED);
		t[i].so_pin_locked = !!(ti.flags & CKF_SO_PIN_LOCKED);
		p11_str(t[i].label, sizeof(t[i].label), ti.label, 32);
		p11_str(t[i].manufacturer, sizeof(t[i].manufacturer),
		    ti.manufacturerID, 32);
		p11_str(t[i].model, sizeof(t[i].model), ti.model, 16);
		p11_str(t[i].serial, sizeof(t[i].serial), ti.serialNumber, 16);
		t[i].mechs = slot_mechs(m, slots[i]);
	}
	*out = t;
	*nout = n;
	t = NULL;
	rc = KR_OK;
out:
	free(slots);
	free(t);
	return rc;
}

/* Blank-pad s into a 32-byte label field; refuse what does not fit. */
static enum kr_err
pad_label(const char *s, unsigned char out[32], struct kr_error *err)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return kr_fail(err, KR_E_USAGE, "token label '%s' must be 1 "
		    "to 32 bytes", s);
	memset(out, ' ', 32);
	memcpy(out, s, n);
	return KR_OK;
}

enum kr_err
hsm_init_token(struct hsm_module *m, const char *label, const char *so_pin,
    size_t so_len, const char *pin, size_t pin_len, char serial[17],
    struct kr_error *err)
{
	struct hsm_token_info *t = NULL;
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	unsigned char lab[32];
	size_t n = 0, i;
	long free_slot = -1, new_slot = -1;
	CK_RV rv;
	enum kr_err rc;

	if ((rc = pad_label(label, lab, err)) != KR_OK)
		return rc;
	if ((rc = hsm_tokens(m, &t, &n, err)) != KR_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if (t[i].initialized && strcmp(t[i].label, label) == 0) {
			rc = kr_fail(err, KR_E_EXISTS, "a token labelled '%s' "
			    "exists already (serial %s); choose another "
			    "label", label, t[i].serial);
			goto out;
		}
		if (free_slot == -1 && t[i].present && !t[i].initialized)
			free_slot = (long)t[i].slot;
	}
	if (free_slot == -1) {
		rc = kr_fail(err, KR_E_NOTFOUND, "no uninitialised token in "
		    "%s: every slot holds an initialised token",
		    m->path);
		goto out;
	}
	rv = m->f->C_InitToken((CK_SLOT_ID)free_slot,
	    (CK_UTF8CHAR_PTR)(uintptr_t)so_pin, so_len, lab);
	if (rv != CKR_OK) {
		rc = p11_fail(err, "C_InitToken", rv);
		goto out;
	}
	/*
	 * Some modules (SoftHSM among them) move an initialised token to a
	 * new slot id, which is why keyrite never names slots: find it
	 * again by its label.
	 */
	free(t);
	t = NULL;
	if ((rc = hsm_tokens(m, &t, &n, err)) != KR_OK)
		goto out;
	for (i = 0; i < n; i++)
		if (t[i].initialized && !t[i].user_pin_initialized &&
		    strcmp(t[i].label, label) == 0)
			new_slot = (long)t[i].slot;
	if (new_slot == -1) {
		rc = kr_fail(err, KR_E_PKCS11, "token '%s' was initialised "
		    "but cannot be found again", label);
		goto out;
	}
	rv = m->f->C_OpenSession((CK_SLOT_ID)new_slot,
	    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h);
	if (rv != CKR_OK) {
		rc = p11_fail(err, "C_OpenSession", rv);
		goto out;
	}
	rv = m->f->C_Login(h, CKU_SO, (CK_UTF8CHAR_PTR)(uintptr_t)so_pin,
	    so_len);
	if (rv != CKR_OK) {
		rc = p11_fail(err, "C_Login (SO)", rv);
		goto out;
	}
	rv = m->f->C_InitPIN(h, (CK_UTF8CHAR_PTR)(uintptr_t)pin, pin_len);
	m->f->C_Logout(h);
	if (rv != CKR_OK) {
		rc = p11_fail(err, "C_InitPIN", rv);
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((long)t[i].slot == new_slot)
			snprintf(serial, 17, "%s", t[i].serial);
	rc = KR_OK;
out:
	if (h != CK_INVALID_HANDLE)
		m->f->C_CloseSession(h);
	free(t);
	return rc;
}

/* Does token t match the token attributes of u? */
static int
token_matches(const struct hsm_token_info *t, const struct hsm_uri *u)
{
	if (u->token && strcmp(u->token, t->label) != 0)
		return 0;
	if (u->serial && strcmp(u->serial, t->serial) != 0)
		return 0;
	if (u->manufacturer && strcmp(u->manufacturer, t->manufacturer) != 0)
		return 0;
	if (u->model && strcmp(u->model, t->model) != 0)
		return 0;
	if (u->slot_id >= 0 && (unsigned long)u->slot_id != t->slot)
		return 0;
	if (u->slot_description &&
	    strcmp(u->slot_description, t->slot_description) != 0)
		return 0;
	return 1;
}

enum kr_err
hsm_open(struct hsm_module *m, const struct hsm_uri *u,
    struct hsm_session **out, struct kr_error *err)
{
	struct hsm_token_info *t = NULL;
	struct hsm_session *s = NULL;
	char have[512];
	size_t n = 0, i, o = 0, found = 0, hit = 0;
	CK_RV rv;
	enum kr_err rc;

	*out = NULL;
	if ((rc = hsm_tokens(m, &t, &n, err)) != KR_OK)
		return rc;
	have[0] = '\0';
	for (i = 0; i < n; i++) {
		/* Uninitialised tokens are never candidates. */
		if (!t[i].present || !t[i].initialized)
			continue;
		if (o < sizeof(have) - 1)
			o += (size_t)snprintf(have + o, sizeof(have) - o,
			    "%s'%s' (serial %s)", o ? ", " : "", t[i].label,
			    t[i].serial);
		if (token_matches(&t[i], u)) {
			found++;
			hit = i;
		}
	}
	if (found == 0) {
		rc = kr_fail(err, KR_E_NOTFOUND, "no initialised token matches "
		    "%s%s%s; tokens present: %s", u->token ? "token=" : "",
		    u->token ? u->token : "the URI", u->serial ? " serial" : "",
		    o ? have : "none");
		goto out;
	}
	if (found > 1) {
		rc = kr_fail(err, KR_E_USAGE, "%zu tokens match; add serial=... "
		    "to the URI to pick one (%s)", found, have);
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	s->m = m;
	s->slot = t[hit].slot;
	snprintf(s->label, sizeof(s->label), "%s", t[hit].label);
	snprintf(s->serial, sizeof(s->serial), "%s", t[hit].serial);
	rv = m->f->C_OpenSession(s->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &s->h);
	if (rv != CKR_OK) {
		rc = p11_fail(err, "C_OpenSession", rv);
		goto out;
	}
	*out = s;
	s = NULL;
	rc = KR_OK;
out:
	free(s);
	free(t);
	return rc;
}

void
hsm_close(struct hsm_session *s)
{
	if (s == NULL)
		return;
	if (s->logged_in)
		s->m->f->C_Logout(s->h);
	s->m->f->C_CloseSession(s->h);
	free(s);
}

const char *
hsm_session_label(const struct hsm_session *s)
{
	return s->label;
}

const char *
hsm_session_serial(const struct hsm_session *s)
{
	return s->serial;
}

enum kr_err
hsm_login(struct hsm_session *s, int so, const char *pin, size_t len,
    struct kr_error *err)
{
	CK_TOKEN_INFO ti;
	CK_RV rv;

	rv = s->m->f->C_Login(s->h, so ? CKU_SO : CKU_USER,
	    (CK_UTF8CHAR_PTR)(uintptr_t)pin, len);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		s->logged_in = 1;
		return KR_OK;
	}
	p11_fail(err, so ? "C_Login (SO)" : "C_Login", rv);
	if (rv == CKR_PIN_INCORRECT &&
	    s->m->f->C_GetTokenInfo(s->slot, &ti) == CKR_OK) {
		if (ti.flags & (so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY))
			kr_error_prefix(err, "token '%s': the next wrong PIN "
			    "locks it", s->label);
		else if (ti.flags & (so ? CKF_SO_PIN_COUNT_LOW :
		    CKF_USER_PIN_COUNT_LOW))
			kr_error_prefix(err, "token '%s': few tries left",
			    s->label);
		else
			kr_error_prefix(err, "token '%s'", s->label);
	} else
		kr_error_prefix(err, "token '%s'", s->label);
	return err != NULL ? err->code : KR_E_AUTH;
}

void
hsm_logout(struct hsm_session *s)
{
	if (s->logged_in)
		s->m->f->C_Logout(s->h);
	s->logged_in = 0;
}

enum kr_err
hsm_set_pin(struct hsm_session *s, const char *old, size_t oldlen,
    const char *pin, size_t len, struct kr_error *err)
{
	CK_RV rv;

	rv = s->m->f->C_SetPIN(s->h, (CK_UTF8CHAR_PTR)(uintptr_t)old, oldlen,
	    (CK_UTF8CHAR_PTR)(uintptr_t)pin, len);
	return rv == CKR_OK ? KR_OK : p11_fail(err, "C_SetPIN", rv);
}

enum kr_err
hsm_init_pin(struct hsm_session *s, const char *pin, size_t len,
    struct kr_error *err)
{
	CK_RV rv;

	rv = s->m->f->C_InitPIN(s->h, (CK_UTF8CHAR_PTR)(uintptr_t)pin, len);
	return rv == CKR_OK ? KR_OK : p11_fail(err, "C_InitPIN", rv);
}

/*
 * Find objects matching tmpl.  Up to max handles go to hv; *n gets how
 * many matched (possibly more than max).
 */
static enum kr_err
find_objects(struct hsm_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl,
    CK_OBJECT_HANDLE *hv, CK_ULONG max, CK_ULONG *n, struct kr_error *err)
{
	CK_OBJECT_HANDLE tmp[16];
	CK_ULONG got, total = 0, i;
	CK_RV rv;

	*n = 0;
	if ((rv = s->m->f->C_FindObjectsInit(s->h, tmpl, ntmpl)) != CKR_OK)
		return p11_fail(err, "C_FindObjectsInit", rv);
	for (;;) {
		rv = s->m->f->C_FindObjects(s->h, tmp, 16, &got);
		if (rv != CKR_OK || got == 0)
			break;
		for (i = 0; i < got; i++, total++)
			if (total < max)
				hv[total] = tmp[i];
	}
	s->m->f->C_FindObjectsFinal(s->h);
	if (rv != CKR_OK)
		return p11_fail(err, "C_FindObjects", rv);
	*n = total;
	return KR_OK;
}

/* Read one attribute into a malloc'd buffer. */
static enum kr_err
get_attr(struct hsm_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
    uint8_t **val, size_t *len, struct kr_error *err)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*val = NULL;
	*len = 0;
	rv = s->m->f->C_GetAttributeValue(s->h, o, &a, 1);
	if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return p11_fail(err, "C_GetAttributeValue", rv == CKR_OK ?
		    CKR_ATTRIBUTE_TYPE_INVALID : rv);
	if ((a.pValue = malloc(a.ulValueLen + 1)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	rv = s->m->f->C_GetAttributeValue(s->h, o, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return p11_fail(err, "C_GetAttributeValue", rv);
	}
	((uint8_t *)a.pValue)[a.ulValueLen] = 0;
	*val = a.pValue;
	*len = a.ulValueLen;
	return KR_OK;
}

/* A boolean attribute, or -1 if it cannot be read. */
static int
get_bool(struct hsm_session *s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = { type, &b, sizeof(b) };

	if (s->m->f->C_GetAttributeValue(s->h, o, &a, 1) != CKR_OK)
		return -1;
	return b == CK_TRUE;
}

/* DER of the named-curve OIDs in CKA_EC_PARAMS. */
static const uint8_t oid_p256[] = {
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};
static const uint8_t oid_p384[] = {
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22
};

/* Build an EVP_PKEY from the public attributes of object o. */
static enum kr_err
read_public(struct hsm_session *s, CK_OBJECT_HANDLE o, EVP_PKEY **out,
    enum hsm_keytype *type, struct kr_error *err)
{
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, &kt, sizeof(kt) };
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	uint8_t *p1 = NULL, *p2 = NULL;
	const uint8_t *pt;
	size_t l1, l2, ptlen, flen;
	const char *group = NULL;
	CK_RV rv;
	enum kr_err rc;

	*out = NULL;
	*type = HSM_KEY_OTHER;
	if ((rv = s->m->f->C_GetAttributeValue(s->h, o, &a, 1)) != CKR_OK)
		return p11_fail(err, "C_GetAttributeValue(CKA_KEY_TYPE)", rv);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (kt == CKK_EC) {
		if ((rc = get_attr(s, o, CKA_EC_PARAMS, &p1, &l1, err)) != KR_OK ||
		    (rc = get_attr(s, o, CKA_EC_POINT, &p2, &l2, err)) != KR_OK)
			goto out;
		if (l1 == sizeof(oid_p256) && memcmp(p1, oid_p256, l1) == 0) {
			group = "P-256";
			*type = HSM_KEY_EC_P256;
			flen = 32;
		} else if (l1 == sizeof(oid_p384) &&
		    memcmp(p1, oid_p384, l1) == 0) {
			group = "P-384";
			*type = HSM_KEY_EC_P384;
			flen = 48;
		} else {
			rc = kr_fail(err, KR_E_POLICY, "the key is on a curve "
			    "keyrite does not use (only P-256 and P-384)");
			goto out;
		}
		/*
		 * CKA_EC_POINT is a DER OCTET STRING around the point, but
		 * some modules give the bare point; tell them by length.
		 */
		pt = p2;
		ptlen = l2;
		if (!(l2 == 2 * flen + 1 && p2[0] == 0x04)) {
			if (l2 < 3 || p2[0] != 0x04 || p2[1] != l2 - 2) {
				rc = kr_fail(err, KR_E_PKCS11, "the token's "
				    "CKA_EC_POINT is not a point");
				goto out;
			}
			pt = p2 + 2;
			ptlen = l2 - 2;
		}
		if (!OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen)) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "EC parameters");
			goto out;
		}
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	} else if (kt == CKK_RSA) {
		if ((rc = get_attr(s, o, CKA_MODULUS, &p1, &l1, err)) != KR_OK ||
		    (rc = get_attr(s, o, CKA_PUBLIC_EXPONENT, &p2, &l2,
		    err)) != KR_OK)
			goto out;
		bn_n = BN_bin2bn(p1, (int)l1, NULL);
		bn_e = BN_bin2bn(p2, (int)l2, NULL);
		if (bn_n == NULL || bn_e == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "RSA parameters");
			goto out;
		}
		switch (BN_num_bits(bn_n)) {
		case 2048: *type = HSM_KEY_RSA_2048; break;
		case 3072: *type = HSM_KEY_RSA_3072; break;
		case 4096: *type = HSM_KEY_RSA_4096; break;
		default: *type = HSM_KEY_OTHER; break;
		}
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		rc = kr_fail(err, KR_E_POLICY, "key type 0x%lx is neither EC "
		    "nor RSA", (unsigned long)kt);
		goto out;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL || ctx == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "the token's public key "
		    "is not valid");
		goto out;
	}
	EVP_PKEY_CTX_free(ctx);
	/* The point must be on the curve, the modulus sane. */
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL)) == NULL ||
	    EVP_PKEY_public_check(ctx) != 1) {
		EVP_PKEY_free(*out);
		*out = NULL;
		rc = kr_fail_ossl(err, KR_E_VERIFY, "the public key read back "
		    "from the token fails its check");
		goto out;
	}
	rc = KR_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	free(p1);
	free(p2);
	return rc;
}

/* Is there any object labelled label? */
static enum kr_err
label_exists(struct hsm_session *s, const char *label, int *exists,
    struct kr_error *err)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
	};
	CK_OBJECT_HANDLE h;
	CK_ULONG n;
	enum kr_err rc;

	if ((rc = find_objects(s, t, 1, &h, 1, &n, err)) != KR_OK)
		return rc;
	*exists = n > 0;
	return KR_OK;
}

enum kr_err
hsm_keygen(struct hsm_session *s, const char *label, enum hsm_keytype type,
    unsigned flags, struct hsm_key **out, struct kr_error *err)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL extractable = (flags & HSM_KEYGEN_EXTRACTABLE) ? CK_TRUE :
	    CK_FALSE;
	CK_ULONG bits = 0;
	CK_BYTE exp[] = { 0x01, 0x00, 0x01 };
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	CK_BYTE id[16];
	const uint8_t *oid = NULL;
	size_t oidlen = 0;
	struct hsm_key *k = NULL;
	enum hsm_keytype got;
	int exists;
	CK_RV rv;
	enum kr_err rc;

	*out = NULL;
	if (label == NULL || *label == '\0' || strlen(label) > 128)
		return kr_fail(err, KR_E_USAGE, "a key label of 1 to 128 bytes "
		    "is required");
	switch (type) {
	case HSM_KEY_EC_P256:
		oid = oid_p256;
		oidlen = sizeof(oid_p256);
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		break;
	case HSM_KEY_EC_P384:
		oid = oid_p384;
		oidlen = sizeof(oid_p384);
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		break;
	case HSM_KEY_RSA_3072:
		bits = 3072;
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		break;
	case HSM_KEY_RSA_4096:
		bits = 4096;
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		break;
	default:
		return kr_fail(err, KR_E_USAGE, "key type must be ec-p384, "
		    "ec-p256, rsa-3072 or rsa-4096");
	}
	if ((rc = label_exists(s, label, &exists, err)) != KR_OK)
		return rc;
	if (exists)
		return kr_fail(err, KR_E_EXISTS, "token '%s' already holds an "
		    "object labelled '%s'; keyrite never reuses a key label",
		    s->label, label);
	if ((rv = s->m->f->C_GenerateRandom(s->h, id, sizeof(id))) != CKR_OK)
		return p11_fail(err, "C_GenerateRandom (for CKA_ID)", rv);
	{
		CK_ATTRIBUTE pubt[] = {
			{ CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &no, sizeof(no) },
			{ CKA_VERIFY, &yes, sizeof(yes) },
			{ CKA_ENCRYPT, &no, sizeof(no) },
			{ CKA_WRAP, &no, sizeof(no) },
			{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
			{ CKA_ID, id, sizeof(id) },
			{ oid ? CKA_EC_PARAMS : CKA_MODULUS_BITS,
			  oid ? (void *)(uintptr_t)oid : (void *)&bits,
			  oid ? oidlen : sizeof(bits) },
			{ CKA_PUBLIC_EXPONENT, exp, sizeof(exp) },
		};
		CK_ATTRIBUTE privt[] = {
			{ CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &yes, sizeof(yes) },
			{ CKA_SENSITIVE, &yes, sizeof(yes) },
			{ CKA_EXTRACTABLE, &extractable, sizeof(extractable) },
			{ CKA_SIGN, &yes, sizeof(yes) },
			{ CKA_DECRYPT, &no, sizeof(no) },
			{ CKA_UNWRAP, &no, sizeof(no) },
			{ CKA_DERIVE, &no, sizeof(no) },
			{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
			{ CKA_ID, id, sizeof(id) },
		};
		/* CKA_PUBLIC_EXPONENT only for RSA. */
		CK_ULONG npub = oid ? 8 : 9;

		rv = s->m->f->C_GenerateKeyPair(s->h, &mech, pubt, npub, privt,
		    sizeof(privt) / sizeof(privt[0]), &pub, &priv);
		if (rv != CKR_OK) {
			rc = p11_fail(err, "C_GenerateKeyPair", rv);
			if (rv == CKR_USER_NOT_LOGGED_IN)
				kr_error_prefix(err, "token '%s'", s->label);
			return rc;
		}
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	k->s = s;
	k->priv = priv;
	k->pub = pub;
	snprintf(k->label, sizeof(k->label), "%s", label);
	memcpy(k->id, id, sizeof(id));
	k->id_len = sizeof(id);
	/* Read back what the token made and check it is what we asked. */
	if ((rc = read_public(s, pub, &k->pkey, &got, err)) != KR_OK)
		goto fail;
	if (got != type) {
		rc = kr_fail(err, KR_E_PKCS11, "asked the token for %s, it "
		    "made %s", hsm_keytype_name(type), hsm_keytype_name(got));
		goto fail;
	}
	if (get_bool(s, priv, CKA_SENSITIVE) != 1 ||
	    get_bool(s, priv, CKA_PRIVATE) != 1 ||
	    get_bool(s, priv, CKA_TOKEN) != 1 ||
	    get_bool(s, priv, CKA_EXTRACTABLE) != (extractable == CK_TRUE)) {
		rc = kr_fail(err, KR_E_PKCS11, "token '%s' did not apply the "
		    "requested key attributes (SENSITIVE, PRIVATE, TOKEN, "
		    "EXTRACTABLE)", s->label);
		goto fail;
	}
	k->type = type;
	*out = k;
	return KR_OK;
fail:
	/* A key we cannot vouch for is not left behind. */
	s->m->f->C_DestroyObject(s->h, priv);
	s->m->f->C_DestroyObject(s->h, pub);
	hsm_key_free(k);
	return rc;
}

enum kr_err
hsm_key_find(struct hsm_session *s, const struct hsm_uri *u,
    struct hsm_key **out, struct kr_error *err)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY, pcls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE t[3];
	CK_OBJECT_HANDLE hv[2];
	CK_ULONG nt = 0, n;
	struct hsm_key *k = NULL;
	uint8_t *v = NULL;
	size_t vlen;
	enum kr_err rc;

	*out = NULL;
	if (u->object == NULL && u->id_len == 0)
		return kr_fail(err, KR_E_USAGE, "the key URI names no key: "
		    "add ;object=LABEL (or ;id=...)");
	t[nt++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	if (u->object)
		t[nt++] = (CK_ATTRIBUTE){ CKA_LABEL, u->object,
		    strlen(u->object) };
	if (u->id_len)
		t[nt++] = (CK_ATTRIBUTE){ CKA_ID, (void *)(uintptr_t)u->id,
		    u->id_len };
	if ((rc = find_objects(s, t, nt, hv, 2, &n, err)) != KR_OK)
		return rc;
	if (n == 0)
		return kr_fail(err, KR_E_NOTFOUND, "token '%s' has no private "
		    "key %s%s (are you logged in as the user? 'keyrite hsm "
		    "keys' lists the keys)", s->label,
		    u->object ? "labelled " : "with that id",
		    u->object ? u->object : "");
	if (n > 1)
		return kr_fail(err, KR_E_USAGE, "token '%s' has %lu private "
		    "keys matching; add ;id=... to the URI", s->label,
		    (unsigned long)n);
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	k->s = s;
	k->priv = hv[0];
	k->pub = CK_INVALID_HANDLE;
	if (get_attr(s, k->priv, CKA_LABEL, &v, &vlen, NULL) == KR_OK)
		snprintf(k->label, sizeof(k->label), "%.*s", (int)vlen,
		    (char *)v);
	free(v);
	v = NULL;
	if (get_attr(s, k->priv, CKA_ID, &v, &vlen, NULL) == KR_OK &&
	    vlen <= sizeof(k->id)) {
		memcpy(k->id, v, vlen);
		k->id_len = vlen;
	}
	free(v);
	/* The public half: the public key object with the same CKA_ID. */
	if (k->id_len > 0) {
		t[0] = (CK_ATTRIBUTE){ CKA_CLASS, &pcls, sizeof(pcls) };
		t[1] = (CK_ATTRIBUTE){ CKA_ID, k->id, k->id_len };
		if ((rc = find_objects(s, t, 2, hv, 2, &n, err)) != KR_OK)
			goto fail;
		if (n == 1)
			k->pub = hv[0];
	}
	rc = read_public(s, k->pub != CK_INVALID_HANDLE ? k->pub : k->priv,
	    &k->pkey, &k->type, err);
	if (rc != KR_OK) {
		kr_error_prefix(err, "key '%s'", k->label);
		goto fail;
	}
	*out = k;
	return KR_OK;
fail:
	hsm_key_free(k);
	return rc;
}

void
hsm_key_free(struct hsm_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

EVP_PKEY *
hsm_key_public(const struct hsm_key *k)
{
	return k->pkey;
}

enum hsm_keytype
hsm_key_type(const struct hsm_key *k)
{
	return k->type;
}

const char *
hsm_key_label(const struct hsm_key *k)
{
	return k->label;
}

/* DigestInfo prefixes (RFC 8017 9.2 note 1). */
static const uint8_t di_sha256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};
static const uint8_t di_sha384[] = {
	0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
	0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30
};

enum kr_err
hsm_key_sign(struct hsm_key *k, const EVP_MD *md, const unsigned char *msg,
    size_t len, unsigned char **sig, size_t *siglen, struct kr_error *err)
{
	CK_MECHANISM mech = { 0, NULL, 0 };
	struct hsm_session *s = k->s;
	uint8_t in[sizeof(di_sha384) + EVP_MAX_MD_SIZE];
	uint8_t raw[1024];
	unsigned int dlen = 0;
	size_t inlen;
	CK_ULONG rawlen = sizeof(raw);
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *sv = NULL;
	unsigned char *der = NULL;
	int derlen, mdnid = EVP_MD_get_type(md);
	CK_RV rv;
	enum kr_err rc;

	*sig = NULL;
	*siglen = 0;
	if (mdnid != NID_sha256 && mdnid != NID_sha384)
		return kr_fail(err, KR_E_INTERNAL, "digest must be SHA-256 or "
		    "SHA-384");
	if (k->type == HSM_KEY_EC_P256 || k->type == HSM_KEY_EC_P384) {
		mech.mechanism = CKM_ECDSA;
		inlen = 0;
	} else {
		const uint8_t *di = mdnid == NID_sha256 ? di_sha256 : di_sha384;

		mech.mechanism = CKM_RSA_PKCS;
		inlen = sizeof(di_sha256);
		memcpy(in, di, inlen);
	}
	if (!EVP_Digest(msg, len, in + inlen, &dlen, md, NULL))
		return kr_fail_ossl(err, KR_E_CRYPTO, "digest");
	inlen += dlen;
	if ((rv = s->m->f->C_SignInit(s->h, &mech, k->priv)) != CKR_OK) {
		rc = p11_fail(err, "C_SignInit", rv);
		kr_error_prefix(err, "key '%s'", k->label);
		return rc;
	}
	if ((rv = s->m->f->C_Sign(s->h, in, inlen, raw, &rawlen)) != CKR_OK) {
		rc = p11_fail(err, "C_Sign", rv);
		kr_error_prefix(err, "key '%s'", k->label);
		return rc;
	}
	if (mech.mechanism == CKM_RSA_PKCS) {
		if ((*sig = malloc(rawlen)) == NULL)
			return kr_fail(err, KR_E_NOMEM, "out of memory");
		memcpy(*sig, raw, rawlen);
		*siglen = rawlen;
		return KR_OK;
	}
	/* CKM_ECDSA gives r || s; X.509 wants DER ECDSA-Sig-Value. */
	if (rawlen == 0 || rawlen % 2 != 0) {
		return kr_fail(err, KR_E_PKCS11, "C_Sign returned an ECDSA "
		    "signature of odd length %lu", (unsigned long)rawlen);
	}
	r = BN_bin2bn(raw, (int)(rawlen / 2), NULL);
	sv = BN_bin2bn(raw + rawlen / 2, (int)(rawlen / 2), NULL);
	if (r == NULL || sv == NULL || (es = ECDSA_SIG_new()) == NULL ||
	    !ECDSA_SIG_set0(es, r, sv)) {
		BN_free(r);
		BN_free(sv);
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "ECDSA signature");
		goto out;
	}
	if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0) {
		rc = kr_fail_ossl(err, KR_E_CRYPTO, "ECDSA signature");
		goto out;
	}
	if ((*sig = malloc((size_t)derlen)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*sig, der, (size_t)derlen);
	*siglen = (size_t)derlen;
	rc = KR_OK;
out:
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	return rc;
}

enum kr_err
hsm_keys(struct hsm_session *s, struct hsm_key_info **out, size_t *nout,
    struct kr_error *err)
{
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE t[2];
	CK_OBJECT_HANDLE hv[256], pv[256];
	CK_ULONG n = 0, np = 0, i, j;
	struct hsm_key_info *ki = NULL;
	size_t cnt = 0;
	enum kr_err rc;

	*out = NULL;
	*nout = 0;
	cls = CKO_PRIVATE_KEY;
	t[0] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	if ((rc = find_objects(s, t, 1, hv, 256, &n, err)) != KR_OK)
		return rc;
	{
		CK_OBJECT_CLASS pc = CKO_PUBLIC_KEY;

		t[0] = (CK_ATTRIBUTE){ CKA_CLASS, &pc, sizeof(pc) };
		if ((rc = find_objects(s, t, 1, pv, 256, &np, err)) != KR_OK)
			return rc;
	}
	if (n > 256)
		n = 256;
	if (np > 256)
		np = 256;
	if ((ki = calloc(n + np + 1, sizeof(*ki))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	for (i = 0; i < n + np; i++) {
		CK_OBJECT_HANDLE o = i < n ? hv[i] : pv[i - n];
		struct hsm_key_info *x = &ki[cnt];
		EVP_PKEY *pk = NULL;
		uint8_t *v = NULL, *spki = NULL;
		size_t vlen = 0;
		int spkilen, dup = 0;

		if (get_attr(s, o, CKA_ID, &v, &vlen, NULL) == KR_OK &&
		    vlen <= HSM_URI_ID_MAX)
			kr_hex(v, vlen, x->id_hex);
		free(v);
		if (i >= n) {
			/* A public key whose private key was listed: skip. */
			for (j = 0; j < cnt && !dup; j++)
				dup = ki[j].has_private &&
				    strcmp(ki[j].id_hex, x->id_hex) == 0 &&
				    x->id_hex[0] != '\0';
			if (dup) {
				memset(x, 0, sizeof(*x));
				continue;
			}
		}
		if (get_attr(s, o, CKA_LABEL, &v, &vlen, NULL) == KR_OK)
			snprintf(x->label, sizeof(x->label), "%.*s", (int)vlen,
			    (char *)v);
		free(v);
		x->has_private = i < n;
		if (x->has_private) {
			x->extractable = get_bool(s, o, CKA_EXTRACTABLE);
			x->sensitive = get_bool(s, o, CKA_SENSITIVE);
			x->always_sensitive = get_bool(s, o,
			    CKA_ALWAYS_SENSITIVE);
			x->never_extractable = get_bool(s, o,
			    CKA_NEVER_EXTRACTABLE);
			x->local = get_bool(s, o, CKA_LOCAL);
		}
		/* The public half: this object, or its public sibling. */
		if (read_public(s, o, &pk, &x->type, NULL) != KR_OK) {
			for (j = 0; j < np; j++) {
				uint8_t *pid = NULL;
				size_t plen = 0;
				char phex[2 * HSM_URI_ID_MAX + 1] = "";

				if (get_attr(s, pv[j], CKA_ID, &pid, &plen,
				    NULL) == KR_OK && plen <= HSM_URI_ID_MAX)
					kr_hex(pid, plen, phex);
				free(pid);
				if (strcmp(phex, x->id_hex) == 0 &&
				    read_public(s, pv[j], &pk, &x->type,
				    NULL) == KR_OK)
					break;
			}
		}
		if (pk != NULL && (spkilen = i2d_PUBKEY(pk, &spki)) > 0)
			kr_fingerprint(spki, (size_t)spkilen, x->spki_fpr);
		OPENSSL_free(spki);
		EVP_PKEY_free(pk);
		cnt++;
	}
	*out = ki;
	*nout = cnt;
	return KR_OK;
}

const uint8_t *
hsm_key_id(const struct hsm_key *k, size_t *id_len)
{
	*id_len = k->id_len;
	return k->id;
}

/*
 * Import wkey as a session AES key usable only to wrap (or unwrap).  The
 * token copies the value; the template's pointer is to the caller's
 * guarded memory.
 */
static enum kr_err
import_wrapping_key(struct hsm_session *s, const uint8_t *wkey, int unwrap,
    CK_OBJECT_HANDLE *h, struct kr_error *err)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &no, sizeof(no) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_ENCRYPT, &no, sizeof(no) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ CKA_WRAP, unwrap ? &no : &yes, sizeof(yes) },
		{ CKA_UNWRAP, unwrap ? &yes : &no, sizeof(yes) },
		{ CKA_VALUE, (void *)(uintptr_t)wkey, HSM_WRAP_KEY_LEN },
	};
	CK_RV rv;

	rv = s->m->f->C_CreateObject(s->h, t, sizeof(t) / sizeof(t[0]), h);
	if (rv != CKR_OK)
		return p11_fail(err, "C_CreateObject (wrapping key)", rv);
	return KR_OK;
}

enum kr_err
hsm_key_wrap(struct hsm_key *k, const uint8_t wkey[HSM_WRAP_KEY_LEN],
    uint8_t **out, size_t *outlen, struct kr_error *err)
{
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	struct hsm_session *s = k->s;
	CK_OBJECT_HANDLE wh = CK_INVALID_HANDLE;
	CK_ULONG len = 0;
	uint8_t *buf = NULL;
	CK_RV rv;
	enum kr_err rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = import_wrapping_key(s, wkey, 0, &wh, err)) != KR_OK)
		return rc;
	rv = s->m->f->C_WrapKey(s->h, &mech, wh, k->priv, NULL, &len);
	if (rv == CKR_OK && (buf = malloc(len)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (rv == CKR_OK)
		rv = s->m->f->C_WrapKey(s->h, &mech, wh, k->priv, buf, &len);
	if (rv != CKR_OK) {
		rc = p11_fail(err, "C_WrapKey", rv);
		if (rv == CKR_KEY_UNEXTRACTABLE)
			kr_error_prefix(err, "key '%s' was generated with "
			    "--no-backup and can never be backed up", k->label);
		else
			kr_error_prefix(err, "key '%s'", k->label);
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = KR_OK;
out:
	free(buf);
	s->m->f->C_DestroyObject(s->h, wh);
	return rc;
}

/* The public key object for pub, labelled and identified like its pair. */
static enum kr_err
create_public(struct hsm_session *s, EVP_PKEY *pub, const char *label,
    const uint8_t *id, size_t idlen, CK_OBJECT_HANDLE *h, CK_KEY_TYPE *kt,
    struct kr_error *err)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE t[10];
	CK_ULONG n = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	uint8_t pt[2 + 133], nb[1024], eb[16];
	size_t ptlen = 0;
	char group[32];
	size_t glen = 0;
	int nlen, elen;
	CK_RV rv;
	enum kr_err rc = KR_OK;

	t[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	t[n++] = (CK_ATTRIBUTE){ CKA_KEY_TYPE, kt, sizeof(*kt) };
	t[n++] = (CK_ATTRIBUTE){ CKA_TOKEN, &yes, sizeof(yes) };
	t[n++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &no, sizeof(no) };
	t[n++] = (CK_ATTRIBUTE){ CKA_VERIFY, &yes, sizeof(yes) };
	t[n++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)(uintptr_t)label,
	    strlen(label) };
	t[n++] = (CK_ATTRIBUTE){ CKA_ID, (void *)(uintptr_t)id, idlen };
	if (EVP_PKEY_is_a(pub, "EC")) {
		*kt = CKK_EC;
		if (EVP_PKEY_get_group_name(pub, group, sizeof(group),
		    &glen) != 1 || EVP_PKEY_get_octet_string_param(pub,
		    OSSL_PKEY_PARAM_PUB_KEY, pt + 2, sizeof(pt) - 2,
		    &ptlen) != 1 || ptlen > 127)
			return kr_fail_ossl(err, KR_E_CRYPTO, "public key");
		/* CKA_EC_POINT is the DER OCTET STRING of the point. */
		pt[0] = 0x04;
		pt[1] = (uint8_t)ptlen;
		if (strcmp(group, "P-256") == 0 ||
		    strcmp(group, "prime256v1") == 0)
			t[n++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS,
			    (void *)(uintptr_t)oid_p256, sizeof(oid_p256) };
		else if (strcmp(group, "P-384") == 0 ||
		    strcmp(group, "secp384r1") == 0)
			t[n++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS,
			    (void *)(uintptr_t)oid_p384, sizeof(oid_p384) };
		else
			return kr_fail(err, KR_E_POLICY, "curve %s is not "
			    "used by keyrite", group);
		t[n++] = (CK_ATTRIBUTE){ CKA_EC_POINT, pt, ptlen + 2 };
	} else if (EVP_PKEY_is_a(pub, "RSA")) {
		*kt = CKK_RSA;
		if (EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N,
		    &bn_n) != 1 || EVP_PKEY_get_bn_param(pub,
		    OSSL_PKEY_PARAM_RSA_E, &bn_e) != 1 ||
		    (nlen = BN_bn2binpad(bn_n, nb, BN_num_bytes(bn_n))) <= 0 ||
		    BN_num_bytes(bn_e) > (int)sizeof(eb) ||
		    (elen = BN_bn2binpad(bn_e, eb, BN_num_bytes(bn_e))) <= 0) {
			rc = kr_fail_ossl(err, KR_E_CRYPTO, "public key");
			goto out;
		}
		t[n++] = (CK_ATTRIBUTE){ CKA_MODULUS, nb, (CK_ULONG)nlen };
		t[n++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, eb,
		    (CK_ULONG)elen };
	} else
		return kr_fail(err, KR_E_POLICY, "only EC and RSA keys");
	rv = s->m->f->C_CreateObject(s->h, t, n, h);
	if (rv != CKR_OK)
		rc = p11_fail(err, "C_CreateObject (public key)", rv);
out:
	BN_free(bn_n);
	BN_free(bn_e);
	return rc;
}

enum kr_err
hsm_key_unwrap(struct hsm_session *s, const uint8_t wkey[HSM_WRAP_KEY_LEN],
    const uint8_t *wrapped, size_t wlen, EVP_PKEY *pub, const char *label,
    const uint8_t *id, size_t idlen, struct hsm_key **out,
    struct kr_error *err)
{
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = 0;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE wh = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE,
	    pubh = CK_INVALID_HANDLE;
	struct hsm_key *k = NULL;
	enum hsm_keytype got;
	int exists;
	CK_RV rv;
	enum kr_err rc;

	*out = NULL;
	if (label == NULL || *label == '\0' || strlen(label) > 128 ||
	    idlen == 0 || idlen > HSM_URI_ID_MAX)
		return kr_fail(err, KR_E_USAGE, "a key label and id are "
		    "required");
	if ((rc = label_exists(s, label, &exists, err)) != KR_OK)
		return rc;
	if (exists)
		return kr_fail(err, KR_E_EXISTS, "token '%s' already holds an "
		    "object labelled '%s'; restore under another --label or "
		    "into an empty token", s->label, label);
	{
		/* Two keys with one CKA_ID cannot be told apart later. */
		CK_ATTRIBUTE t[] = {
			{ CKA_ID, (void *)(uintptr_t)id, idlen },
		};
		CK_OBJECT_HANDLE h;
		CK_ULONG n;

		if ((rc = find_objects(s, t, 1, &h, 1, &n, err)) != KR_OK)
			return rc;
		if (n > 0)
			return kr_fail(err, KR_E_EXISTS, "token '%s' already "
			    "holds a key with this backup's CKA_ID (the "
			    "original key?); restore into another token",
			    s->label);
	}
	/* The public object first: it also tells the key type. */
	if ((rc = create_public(s, pub, label, id, idlen, &pubh, &kt, err)) !=
	    KR_OK)
		return rc;
	if ((rc = import_wrapping_key(s, wkey, 1, &wh, err)) != KR_OK)
		goto fail;
	{
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_KEY_TYPE, &kt, sizeof(kt) },
			{ CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &yes, sizeof(yes) },
			{ CKA_SENSITIVE, &yes, sizeof(yes) },
			/* Extractable so that it can be backed up again. */
			{ CKA_EXTRACTABLE, &yes, sizeof(yes) },
			{ CKA_SIGN, &yes, sizeof(yes) },
			{ CKA_DECRYPT, &no, sizeof(no) },
			{ CKA_UNWRAP, &no, sizeof(no) },
			{ CKA_DERIVE, &no, sizeof(no) },
			{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
			{ CKA_ID, (void *)(uintptr_t)id, idlen },
		};

		rv = s->m->f->C_UnwrapKey(s->h, &mech, wh,
		    (CK_BYTE_PTR)(uintptr_t)wrapped, wlen, t,
		    sizeof(t) / sizeof(t[0]), &priv);
	}
	s->m->f->C_DestroyObject(s->h, wh);
	if (rv != CKR_OK) {
		rc = p11_fail(err, "C_UnwrapKey", rv);
		goto fail;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto fail;
	}
	k->s = s;
	k->priv = priv;
	k->pub = pubh;
	snprintf(k->label, sizeof(k->label), "%s", label);
	memcpy(k->id, id, idlen);
	k->id_len = idlen;
	if ((rc = read_public(s, pubh, &k->pkey, &got, err)) != KR_OK)
		goto fail;
	k->type = got;
	if (get_bool(s, priv, CKA_SENSITIVE) != 1 ||
	    get_bool(s, priv, CKA_TOKEN) != 1) {
		rc = kr_fail(err, KR_E_PKCS11, "token '%s' did not make the "
		    "restored key SENSITIVE", s->label);
		goto fail;
	}
	*out = k;
	return KR_OK;
fail:
	if (priv != CK_INVALID_HANDLE)
		s->m->f->C_DestroyObject(s->h, priv);
	s->m->f->C_DestroyObject(s->h, pubh);
	hsm_key_free(k);
	return rc;
}

enum kr_err
hsm_key_destroy(struct hsm_key *k, struct kr_error *err)
{
	CK_RV rv;

	rv = k->s->m->f->C_DestroyObject(k->s->h, k->priv);
	if (rv != CKR_OK)
		return p11_fail(err, "C_DestroyObject", rv);
	if (k->pub != CK_INVALID_HANDLE)
		k->s->m->f->C_DestroyObject(k->s->h, k->pub);
	return KR_OK;
}
