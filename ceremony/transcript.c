/*
 * transcript.c: the hash-chained, signed ceremony transcript (see
 * transcript.h; byte-level format in docs/ceremony-transcript.md, keep
 * the two in step).
 *
 * One checker, check_line(), holds every rule.  The verifier runs it over
 * each line of a file; the writer runs it over each line it is about to
 * append, so the runner can never write a transcript that its own
 * verifier would refuse: a bad entry is an error at the moment it is
 * made, not at the end of the ceremony.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "../common/file.h"
#include "transcript.h"

/* The one encoding: compact, keys in insertion order, ASCII only. */
#define ENC_FLAGS	(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)
#define LINE_MAX_BYTES	(256 * 1024)
#define FILE_MAX_BYTES	(64 * 1024 * 1024)
#define DOMAIN_LEN	(sizeof(CER_TRANSCRIPT_SIG_DOMAIN) - 1)
#define MSG_LEN		(DOMAIN_LEN + CER_HASH_LEN)

enum etype {
	T_BEGIN,
	T_STEP_START,
	T_SAY,
	T_CONFIRM,
	T_OUTPUT,
	T_RECORD,
	T_KEY,
	T_OFFICERS,
	T_DEVIATION,
	T_STEP_END,
	T_ABORT,
	T_END,
	T_COUNT
};

/*
 * Per type: the string fields that must be present and non-empty, and
 * the fields that must be 64 lower-case hex digits.  Other checks are in
 * check_fields().
 */
static const struct etype_def {
	const char	*name;
	const char	*str[4];
	const char	*hex[2];
} etypes[T_COUNT] = {
	[T_BEGIN] = { "begin", { "script", "mode" }, { "sha256" } },
	[T_STEP_START] = { "step-start", { "step" }, { NULL } },
	[T_SAY] = { "say", { "step", "text" }, { NULL } },
	[T_CONFIRM] = { "confirm", { "step", "role", "who" }, { NULL } },
	[T_OUTPUT] = { "output", { "step", "path" }, { "sha256" } },
	[T_RECORD] = { "record", { "step", "text" }, { NULL } },
	[T_KEY] = { "key", { "step", "label", "fingerprint" },
	    { "spki_sha256" } },
	[T_OFFICERS] = { "officers", { "step" }, { NULL } },
	[T_DEVIATION] = { "deviation", { "step", "text" }, { NULL } },
	[T_STEP_END] = { "step-end", { "step" }, { NULL } },
	[T_ABORT] = { "abort", { "step", "reason" }, { NULL } },
	[T_END] = { "end", { "status" }, { NULL } },
};

/* What the lines read so far have established. */
struct vstate {
	const char		*name;		/* file name for messages */
	const char		*dir;		/* outputs, or NULL */
	struct cer_verify	*res;
	int			 have_anchor;
	uint8_t			 anchor[CER_HASH_LEN];
	uint8_t			 head[CER_HASH_LEN];
	size_t			 line;		/* lines accepted */
	size_t			 entries;	/* chained entries accepted */
	size_t			 sigs;
	int			 ended, aborted;
	char			*open_step;
	json_t			*officers;	/* name -> hex public key */
	json_t			*signers;	/* name -> signed yet? */
	json_t			*order;		/* end's signers, in order */
};

struct cer_transcript {
	int			 fd;
	int			 broken;	/* a write failed */
	char			*dir;
	struct vstate		 st;
	struct cer_verify	 res;
};

static void
vstate_init(struct vstate *st, const char *name, const char *dir,
    const uint8_t *anchor, struct cer_verify *res)
{
	memset(st, 0, sizeof(*st));
	st->name = name;
	st->dir = dir;
	st->res = res;
	if (anchor != NULL) {
		st->have_anchor = 1;
		memcpy(st->anchor, anchor, CER_HASH_LEN);
		memcpy(st->head, anchor, CER_HASH_LEN);
	}
}

static void
vstate_free(struct vstate *st)
{
	free(st->open_step);
	st->open_step = NULL;
	json_decref(st->officers);
	json_decref(st->signers);
	json_decref(st->order);
	st->officers = st->signers = st->order = NULL;
}

/*
 * Fail naming where: "transcript.jsonl: entry 7 (line 7): ...", or
 * "signature 2 (line 21)" on a signature line, or just the line where
 * the kind of the line is not known.
 */
enum where { W_ENTRY, W_SIG, W_LINE };

static enum kr_err __attribute__((format(printf, 5, 6)))
fail_at(const struct vstate *st, struct kr_error *err, enum kr_err code,
    enum where w, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	switch (w) {
	case W_ENTRY:
		return kr_fail(err, code, "%s: entry %zu (line %zu): %s",
		    st->name, st->entries + 1, st->line + 1, msg);
	case W_SIG:
		return kr_fail(err, code, "%s: signature %zu (line %zu): %s",
		    st->name, st->sigs + 1, st->line + 1, msg);
	case W_LINE:
	default:
		return kr_fail(err, code, "%s: line %zu: %s", st->name,
		    st->line + 1, msg);
	}
}

/* Exactly 2*n lower-case hex digits; decoded into out when not NULL. */
static int
hex_ok(const char *s, size_t n, uint8_t *out)
{
	size_t i;
	int hi, lo;

	if (s == NULL || strlen(s) != 2 * n)
		return 0;
	for (i = 0; i < 2 * n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	if (out != NULL)
		for (i = 0; i < n; i++) {
			hi = s[2 * i] <= '9' ? s[2 * i] - '0' :
			    s[2 * i] - 'a' + 10;
			lo = s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0' :
			    s[2 * i + 1] - 'a' + 10;
			out[i] = (uint8_t)(hi << 4 | lo);
		}
	return 1;
}

static const char *
str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* YYYY-MM-DDTHH:MM:SSZ, a real date (no 30 February). */
static void
fmt_time(time_t t, char out[21])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		snprintf(out, 21, "1970-01-01T00:00:00Z");
}

static int
time_ok(const char *s)
{
	char back[21];
	time_t t;

	if (s == NULL || strlen(s) != 20 || s[4] != '-' || s[10] != 'T' ||
	    (t = kr_parse_time(s)) == -1)
		return 0;
	fmt_time(t, back);
	return strcmp(back, s) == 0;
}

/* Relative, no "..", "." or empty component, no control characters. */
static int
path_ok(const char *p)
{
	const char *c, *e;
	size_t n;

	if (p == NULL || *p == '\0' || *p == '/')
		return 0;
	for (c = p; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
			return 0;
	for (c = p;; c = e + 1) {
		e = strchr(c, '/');
		n = e != NULL ? (size_t)(e - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (e == NULL)
			return 1;
	}
}

/* SHA-256 of dir/path, refusing a symbolic link or anything not a file. */
static enum kr_err
file_sha256(const char *dir, const char *path, uint8_t out[32],
    struct kr_error *err)
{
	crypto_hash_sha256_state h;
	struct stat sb;
	uint8_t buf[16384];
	char full[4096];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(full, sizeof(full), "%s/%s", dir, path) >=
	    sizeof(full))
		return kr_fail(err, KR_E_USAGE, "path too long");
	if ((fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return kr_fail(err, errno == ENOENT ? KR_E_NOTFOUND : KR_E_IO,
		    "%s", strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return kr_fail(err, KR_E_IO, "not a regular file");
	}
	crypto_hash_sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			return kr_fail(err, KR_E_IO, "%s", strerror(errno));
		}
		crypto_hash_sha256_update(&h, buf, (size_t)n);
	}
	close(fd);
	crypto_hash_sha256_final(&h, out);
	return KR_OK;
}

static enum etype
etype_of(const char *s)
{
	int i;

	for (i = 0; i < T_COUNT; i++)
		if (s != NULL && strcmp(s, etypes[i].name) == 0)
			return (enum etype)i;
	return T_COUNT;
}

/*
 * The officers array: [{"name":N,"ed25519":HEX}, ...], no name twice, no
 * key twice, and nothing contradicting an earlier officers entry.
 */
static enum kr_err
check_officers(const struct vstate *st, const json_t *o, struct kr_error *err)
{
	const json_t *a = json_object_get(o, "officers");
	const char *name, *key, *k2, *n2;
	json_t *v, *w;
	size_t i, j;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return fail_at(st, err, KR_E_PARSE, W_ENTRY,
		    "officers must be a non-empty array");
	json_array_foreach(a, i, v) {
		name = str_of(v, "name");
		key = str_of(v, "ed25519");
		if (!json_is_object(v) || json_object_size(v) != 2 ||
		    name == NULL || *name == '\0' ||
		    !hex_ok(key, crypto_sign_PUBLICKEYBYTES, NULL))
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "officer %zu must be {\"name\":NAME,\"ed25519\":"
			    "64 hex digits}", i + 1);
		for (j = 0; j < i; j++) {
			w = json_array_get(a, j);
			if (strcmp(str_of(w, "name"), name) == 0 ||
			    strcmp(str_of(w, "ed25519"), key) == 0)
				return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
				    "officers %s and %s: same name or key",
				    str_of(w, "name"), name);
		}
		k2 = json_string_value(json_object_get(st->officers, name));
		if (k2 != NULL && strcmp(k2, key) != 0)
			return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
			    "officer %s has a key other than the one recorded "
			    "earlier", name);
		json_object_foreach((json_t *)st->officers, n2, w)
			if (strcmp(n2, name) != 0 &&
			    strcmp(json_string_value(w), key) == 0)
				return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
				    "officer %s has the key recorded for %s",
				    name, n2);
	}
	return KR_OK;
}

/* The end entry's signers: distinct names, each with a recorded key. */
static enum kr_err
check_signers(const struct vstate *st, const json_t *o, struct kr_error *err)
{
	const json_t *a = json_object_get(o, "signers");
	const char *s;
	json_t *v;
	size_t i, j;

	if (!json_is_array(a))
		return fail_at(st, err, KR_E_PARSE, W_ENTRY,
		    "end needs \"signers\": the names that will sign");
	json_array_foreach(a, i, v) {
		s = json_string_value(v);
		if (s == NULL || *s == '\0')
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "signers[%zu] is not a name", i);
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(a, j)),
			    s) == 0)
				return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
				    "signer %s listed twice", s);
		if (json_object_get(st->officers, s) == NULL)
			return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
			    "signer %s has no key recorded in an officers "
			    "entry", s);
	}
	return KR_OK;
}

/* The per-type fields of a chained entry, and where it may stand. */
static enum kr_err
check_fields(const struct vstate *st, enum etype t, const json_t *o,
    const uint8_t prev[CER_HASH_LEN], struct kr_error *err)
{
	const struct etype_def *d = &etypes[t];
	const char *s, *step = str_of(o, "step");
	const json_t *v;
	uint8_t h[32], fh[32];
	char hx[65];
	enum kr_err rc;
	int i;

	for (i = 0; i < 4 && d->str[i] != NULL; i++)
		if ((s = str_of(o, d->str[i])) == NULL || *s == '\0')
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "%s needs \"%s\" (a non-empty string)", d->name,
			    d->str[i]);
	for (i = 0; i < 2 && d->hex[i] != NULL; i++)
		if (!hex_ok(str_of(o, d->hex[i]), 32, NULL))
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "%s needs \"%s\" (64 lower-case hex digits)",
			    d->name, d->hex[i]);
	if (st->entries == 0 && t != T_BEGIN)
		return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
		    "the first entry must be begin, not %s", d->name);
	if (st->entries > 0 && t == T_BEGIN)
		return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
		    "a second begin entry");
	if (st->aborted && t != T_RECORD && t != T_DEVIATION &&
	    t != T_STEP_END && t != T_END)
		return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
		    "%s after the abort entry (only record, deviation, "
		    "step-end and end may follow it)", d->name);
	switch (t) {
	case T_BEGIN:
		s = str_of(o, "mode");
		if (strcmp(s, "rehearsal") != 0 && strcmp(s, "live") != 0)
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "mode must be \"rehearsal\" or \"live\"");
		hex_ok(str_of(o, "sha256"), 32, h);
		if (memcmp(h, prev, CER_HASH_LEN) != 0)
			return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
			    "the script's sha256 is not the chain's anchor "
			    "(prev)");
		if ((v = json_object_get(o, "title")) != NULL &&
		    !json_is_string(v))
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "title must be a string");
		break;
	case T_STEP_START:
		if (st->open_step != NULL)
			return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
			    "step %s starts while step %s is open", step,
			    st->open_step);
		if (((v = json_object_get(o, "title")) != NULL &&
		    !json_is_string(v)) ||
		    ((v = json_object_get(o, "action")) != NULL &&
		    !json_is_string(v)))
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "title and action must be strings");
		break;
	case T_STEP_END:
		if (st->open_step == NULL || strcmp(st->open_step, step) != 0)
			return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
			    "step-end for step %s, but the open step is %s",
			    step, st->open_step ? st->open_step : "none");
		v = json_object_get(o, "seconds");
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "step-end needs \"seconds\" (an integer >= 0)");
		break;
	case T_OUTPUT:
		s = str_of(o, "path");
		if (!path_ok(s))
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "output path must be relative, without \"..\"");
		if (st->dir == NULL)
			break;
		if ((rc = file_sha256(st->dir, s, fh, err)) != KR_OK)
			return fail_at(st, err, rc, W_ENTRY, "output %s: %s",
			    s, err != NULL ? err->msg : "unreadable");
		hex_ok(str_of(o, "sha256"), 32, h);
		if (memcmp(h, fh, 32) != 0) {
			kr_hex(fh, 32, hx);
			return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
			    "output %s: the file's SHA-256 is %s, the "
			    "transcript says %s", s, hx,
			    str_of(o, "sha256"));
		}
		break;
	case T_OFFICERS:
		return check_officers(st, o, err);
	case T_ABORT:
		if (st->aborted)
			return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
			    "a second abort entry");
		break;
	case T_END:
		s = str_of(o, "status");
		if (strcmp(s, "completed") != 0 && strcmp(s, "aborted") != 0)
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "status must be \"completed\" or \"aborted\"");
		if (st->aborted != (strcmp(s, "aborted") == 0))
			return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
			    st->aborted ? "status \"completed\" after an "
			    "abort entry" : "status \"aborted\" without an "
			    "abort entry");
		if (st->open_step != NULL && !st->aborted)
			return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
			    "end while step %s is open", st->open_step);
		return check_signers(st, o, err);
	default:
		break;
	}
	return KR_OK;
}

/* Record what an accepted entry establishes.  Only fails for memory. */
static enum kr_err
apply_entry(struct vstate *st, enum etype t, const json_t *o,
    struct kr_error *err)
{
	struct cer_verify *r = st->res;
	const json_t *a;
	json_t *v;
	size_t i;

	switch (t) {
	case T_BEGIN:
		snprintf(r->script, sizeof(r->script), "%s",
		    str_of(o, "script"));
		snprintf(r->mode, sizeof(r->mode), "%s", str_of(o, "mode"));
		break;
	case T_STEP_START:
		if ((st->open_step = strdup(str_of(o, "step"))) == NULL)
			return kr_fail(err, KR_E_NOMEM, "out of memory");
		break;
	case T_STEP_END:
		free(st->open_step);
		st->open_step = NULL;
		break;
	case T_OUTPUT:
		if (st->dir != NULL)
			r->outputs++;
		break;
	case T_OFFICERS:
		if (st->officers == NULL &&
		    (st->officers = json_object()) == NULL)
			return kr_fail(err, KR_E_NOMEM, "out of memory");
		a = json_object_get(o, "officers");
		json_array_foreach(a, i, v)
			if (json_object_set_new(st->officers,
			    str_of(v, "name"),
			    json_string(str_of(v, "ed25519"))) != 0)
				return kr_fail(err, KR_E_NOMEM,
				    "out of memory");
		break;
	case T_ABORT:
		st->aborted = 1;
		snprintf(r->abort_step, sizeof(r->abort_step), "%s",
		    str_of(o, "step"));
		snprintf(r->abort_reason, sizeof(r->abort_reason), "%s",
		    str_of(o, "reason"));
		break;
	case T_END:
		st->ended = 1;
		r->completed = !st->aborted;
		if ((st->signers = json_object()) == NULL)
			return kr_fail(err, KR_E_NOMEM, "out of memory");
		a = json_object_get(o, "signers");
		st->order = json_incref((json_t *)a);
		json_array_foreach(a, i, v)
			if (json_object_set_new(st->signers,
			    json_string_value(v), json_false()) != 0)
				return kr_fail(err, KR_E_NOMEM,
				    "out of memory");
		break;
	default:
		break;
	}
	return KR_OK;
}

/* A chained entry: seq, time, type, ..., prev. */
static enum kr_err
check_entry(struct vstate *st, const json_t *o, const char *line, size_t len,
    struct kr_error *err)
{
	static const char *const first[3] = { "seq", "time", "type" };
	const char *key, *last = NULL;
	const json_t *seq;
	uint8_t prev[CER_HASH_LEN];
	enum kr_err rc;
	enum etype t;
	void *it;
	int i;

	for (i = 0, it = json_object_iter((json_t *)o); it != NULL;
	    i++, it = json_object_iter_next((json_t *)o, it)) {
		key = json_object_iter_key(it);
		if (i < 3 && strcmp(key, first[i]) != 0)
			return fail_at(st, err, KR_E_PARSE, W_ENTRY,
			    "keys must start seq, time, type");
		last = key;
	}
	if (i < 4 || strcmp(last, "prev") != 0)
		return fail_at(st, err, KR_E_PARSE, W_ENTRY,
		    "the last key must be prev");
	seq = json_object_get(o, "seq");
	if (!json_is_integer(seq))
		return fail_at(st, err, KR_E_PARSE, W_ENTRY,
		    "seq must be an integer");
	if (json_integer_value(seq) != (json_int_t)(st->entries + 1))
		return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
		    "seq is %lld, expected %zu (an entry removed, added or "
		    "moved)", (long long)json_integer_value(seq),
		    st->entries + 1);
	if (!time_ok(str_of(o, "time")))
		return fail_at(st, err, KR_E_PARSE, W_ENTRY,
		    "time must be YYYY-MM-DDTHH:MM:SSZ");
	if ((t = etype_of(str_of(o, "type"))) == T_COUNT)
		return fail_at(st, err, KR_E_PARSE, W_ENTRY,
		    "unknown entry type");
	if (!hex_ok(str_of(o, "prev"), CER_HASH_LEN, prev))
		return fail_at(st, err, KR_E_PARSE, W_ENTRY,
		    "prev must be 64 lower-case hex digits");
	if (st->ended)
		return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
		    st->sigs > 0 ? "a chained entry after a signature line" :
		    "an entry after the end entry");
	if (st->entries > 0 || st->have_anchor) {
		if (memcmp(prev, st->head, CER_HASH_LEN) != 0) {
			if (st->entries == 0)
				return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
				    "prev is not the script's SHA-256 (a "
				    "transcript of another script, or the "
				    "script was changed)");
			return fail_at(st, err, KR_E_VERIFY, W_ENTRY,
			    "prev does not match the hash of entry %zu",
			    st->entries);
		}
	}
	if ((rc = check_fields(st, t, o, prev, err)) != KR_OK)
		return rc;
	if ((rc = apply_entry(st, t, o, err)) != KR_OK)
		return rc;
	if (st->entries == 0) {
		memcpy(st->anchor, prev, CER_HASH_LEN);
		kr_hex(prev, CER_HASH_LEN, st->res->anchor);
	}
	crypto_generichash(st->head, CER_HASH_LEN, (const uint8_t *)line, len,
	    NULL, 0);
	st->entries++;
	return KR_OK;
}

/* The message a transcript signature signs: domain || hash. */
static void
sig_message(const uint8_t hash[CER_HASH_LEN], uint8_t msg[MSG_LEN])
{
	memcpy(msg, CER_TRANSCRIPT_SIG_DOMAIN, DOMAIN_LEN);
	memcpy(msg + DOMAIN_LEN, hash, CER_HASH_LEN);
}

/* {"type":"signature","signer":N,"ed25519":H,"signed":H,"sig":H}. */
static enum kr_err
check_sig(struct vstate *st, const json_t *o, struct kr_error *err)
{
	static const char *const keys[5] = { "type", "signer", "ed25519",
	    "signed", "sig" };
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	uint8_t signd[CER_HASH_LEN], msg[MSG_LEN];
	const char *signer, *rec, *next;
	json_t *done;
	void *it;
	int i;

	for (i = 0, it = json_object_iter((json_t *)o); it != NULL;
	    i++, it = json_object_iter_next((json_t *)o, it))
		if (i >= 5 || strcmp(json_object_iter_key(it), keys[i]) != 0)
			return fail_at(st, err, KR_E_PARSE, W_SIG,
			    "keys must be type, signer, ed25519, signed, sig");
	signer = str_of(o, "signer");
	if (i != 5 || signer == NULL || *signer == '\0' ||
	    !hex_ok(str_of(o, "ed25519"), sizeof(pk), pk) ||
	    !hex_ok(str_of(o, "signed"), sizeof(signd), signd) ||
	    !hex_ok(str_of(o, "sig"), sizeof(sig), sig))
		return fail_at(st, err, KR_E_PARSE, W_SIG,
		    "needs signer (a name), ed25519, signed and sig "
		    "(lower-case hex)");
	if (!st->ended)
		return fail_at(st, err, KR_E_VERIFY, W_SIG,
		    "signature line before the end entry");
	rec = json_string_value(json_object_get(st->officers, signer));
	if (rec == NULL)
		return fail_at(st, err, KR_E_VERIFY, W_SIG,
		    "signer %s has no key recorded in an officers entry",
		    signer);
	if (strcmp(rec, str_of(o, "ed25519")) != 0)
		return fail_at(st, err, KR_E_VERIFY, W_SIG,
		    "signer %s: the key is not the one the officers entry "
		    "recorded for %s", signer, signer);
	if ((done = json_object_get(st->signers, signer)) == NULL)
		return fail_at(st, err, KR_E_VERIFY, W_SIG,
		    "signer %s is not listed in the end entry", signer);
	if (json_is_true(done))
		return fail_at(st, err, KR_E_VERIFY, W_SIG,
		    "signer %s signed twice", signer);
	/* One order, so a signed transcript has exactly one spelling. */
	next = json_string_value(json_array_get(st->order, st->sigs));
	if (next == NULL || strcmp(next, signer) != 0)
		return fail_at(st, err, KR_E_VERIFY, W_SIG,
		    "signer %s signs out of turn: the end entry lists %s "
		    "next", signer, next != NULL ? next : "nobody");
	if (memcmp(signd, st->head, CER_HASH_LEN) != 0)
		return fail_at(st, err, KR_E_VERIFY, W_SIG,
		    "signer %s signed a hash that is not the final hash",
		    signer);
	sig_message(st->head, msg);
	if (crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) != 0)
		return fail_at(st, err, KR_E_VERIFY, W_SIG,
		    "signer %s: the signature does not verify", signer);
	if (json_object_set_new(st->signers, signer, json_true()) != 0)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	st->sigs++;
	return KR_OK;
}

/*
 * One line (without its newline).  It must be canonical: parsing it
 * and encoding it again gives the same bytes, so every accepted
 * transcript has one spelling and the hash covers what was meant.
 */
static enum kr_err
check_line(struct vstate *st, const char *line, size_t len,
    struct kr_error *err)
{
	enum where w = st->ended ? W_LINE : W_ENTRY;
	json_error_t je;
	json_t *o;
	char *re = NULL;
	enum kr_err rc;

	if (len == 0)
		return fail_at(st, err, KR_E_PARSE, w, "empty line");
	if (len > LINE_MAX_BYTES)
		return fail_at(st, err, KR_E_PARSE, w, "line too long");
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL)
		return fail_at(st, err, KR_E_PARSE, w, "not JSON: %s",
		    je.text);
	if (!json_is_object(o)) {
		rc = fail_at(st, err, KR_E_PARSE, w, "not a JSON object");
		goto out;
	}
	if ((re = json_dumps(o, ENC_FLAGS)) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	if (strlen(re) != len || memcmp(re, line, len) != 0) {
		rc = fail_at(st, err, KR_E_PARSE, w, "not in canonical form "
		    "(compact JSON, ASCII only, as keyrite writes it)");
		goto out;
	}
	if (str_of(o, "type") != NULL &&
	    strcmp(str_of(o, "type"), "signature") == 0)
		rc = check_sig(st, o, err);
	else
		rc = check_entry(st, o, line, len, err);
	if (rc == KR_OK)
		st->line++;
out:
	free(re);
	json_decref(o);
	return rc;
}

/* After the last line: an end entry, and every listed signer signed. */
static enum kr_err
check_final(struct vstate *st, struct kr_error *err)
{
	const char *name;
	json_t *v;

	if (st->line == 0)
		return kr_fail(err, KR_E_PARSE, "%s: empty", st->name);
	if (!st->ended)
		return kr_fail(err, KR_E_VERIFY, "%s: incomplete: no end entry "
		    "(the last entry is entry %zu)", st->name, st->entries);
	json_object_foreach(st->signers, name, v)
		if (!json_is_true(v))
			return kr_fail(err, KR_E_VERIFY, "%s: signer %s is "
			    "listed in the end entry but did not sign",
			    st->name, name);
	return KR_OK;
}

enum kr_err
cer_transcript_verify_buf(const char *text, size_t len, const char *dir,
    const uint8_t *script_sha256, struct cer_verify *res,
    struct kr_error *err)
{
	struct cer_verify scratch;
	struct vstate st;
	const char *p = text, *nl, *end = text + len;
	enum kr_err rc = KR_OK;

	if (res == NULL)
		res = &scratch;
	memset(res, 0, sizeof(*res));
	vstate_init(&st, CER_TRANSCRIPT_FILE, dir, script_sha256, res);
	res->anchor_checked = script_sha256 != NULL;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			rc = fail_at(&st, err, KR_E_PARSE, W_LINE,
			    "no newline at the end (a write was cut short)");
			goto out;
		}
		if ((rc = check_line(&st, p, (size_t)(nl - p), err)) != KR_OK)
			goto out;
		p = nl + 1;
	}
	if ((rc = check_final(&st, err)) != KR_OK)
		goto out;
	res->entries = st.entries;
	res->signatures = st.sigs;
	kr_hex(st.head, CER_HASH_LEN, res->final_hash);
out:
	vstate_free(&st);
	return rc;
}

enum kr_err
cer_transcript_verify(const char *dir, const uint8_t *script_sha256,
    struct cer_verify *res, struct kr_error *err)
{
	char path[4096];
	uint8_t *buf = NULL;
	size_t len;
	enum kr_err rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    CER_TRANSCRIPT_FILE) >= sizeof(path))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", dir);
	if ((rc = kr_file_read(path, FILE_MAX_BYTES, &buf, &len, err)) !=
	    KR_OK)
		return rc;
	rc = cer_transcript_verify_buf((const char *)buf, len, dir,
	    script_sha256, res, err);
	free(buf);
	return rc;
}

enum kr_err
cer_transcript_read(const char *dir, json_t **out, struct kr_error *err)
{
	char path[4096];
	uint8_t *buf = NULL;
	const char *p, *nl, *end;
	json_error_t je;
	json_t *a = NULL, *o;
	size_t len, line = 0;
	enum kr_err rc;

	*out = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    CER_TRANSCRIPT_FILE) >= sizeof(path))
		return kr_fail(err, KR_E_USAGE, "%s: path too long", dir);
	if ((rc = kr_file_read(path, FILE_MAX_BYTES, &buf, &len, err)) !=
	    KR_OK)
		return rc;
	if ((a = json_array()) == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	for (p = (const char *)buf, end = p + len; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		o = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES,
		    &je);
		if (!json_is_object(o)) {
			json_decref(o);
			rc = kr_fail(err, KR_E_PARSE, "%s: line %zu: not a "
			    "JSON object", CER_TRANSCRIPT_FILE, line);
			goto out;
		}
		if (json_array_append_new(a, o) != 0) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
	}
	*out = a;
	a = NULL;
	rc = KR_OK;
out:
	json_decref(a);
	free(buf);
	return rc;
}

/* ---- Writing ---- */

/* Append line and a newline in one write (retried if short), fsync. */
static enum kr_err
append_line(struct cer_transcript *t, const char *line, size_t len,
    struct kr_error *err)
{
	char *buf;
	size_t off = 0;
	ssize_t n;
	enum kr_err rc = KR_OK;

	if ((buf = malloc(len + 1)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	memcpy(buf, line, len);
	buf[len] = '\n';
	while (off < len + 1) {
		n = write(t->fd, buf + off, len + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = kr_fail(err, KR_E_IO, "%s: write: %s",
			    CER_TRANSCRIPT_FILE, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(t->fd) == -1)
		rc = kr_fail(err, KR_E_IO, "%s: fsync: %s",
		    CER_TRANSCRIPT_FILE, strerror(errno));
out:
	if (rc != KR_OK)
		t->broken = 1;	/* the file may now end in half a line */
	free(buf);
	return rc;
}

/* Check an encoded line against everything before it, then append. */
static enum kr_err
commit(struct cer_transcript *t, json_t *o, struct kr_error *err)
{
	char *line;
	enum kr_err rc;

	if ((line = json_dumps(o, ENC_FLAGS)) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	rc = check_line(&t->st, line, strlen(line), err);
	if (rc != KR_OK)
		kr_error_prefix(err, "refusing to write an entry that would "
		    "not verify");
	else
		rc = append_line(t, line, strlen(line), err);
	free(line);
	return rc;
}

enum kr_err
cer_transcript_create(const char *path,
    const uint8_t script_sha256[CER_HASH_LEN], struct cer_transcript **out,
    struct kr_error *err)
{
	struct cer_transcript *t;
	const char *slash;
	enum kr_err rc;
	int dfd;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	t->fd = -1;
	slash = strrchr(path, '/');
	t->dir = slash == NULL ? strdup(".") :
	    strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (t->dir == NULL) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	vstate_init(&t->st, CER_TRANSCRIPT_FILE, t->dir, script_sha256,
	    &t->res);
	t->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	if (t->fd == -1) {
		rc = kr_fail(err, errno == EEXIST ? KR_E_EXISTS : KR_E_IO,
		    "%s: %s%s", path, strerror(errno), errno == EEXIST ?
		    "; a transcript is never overwritten, use a new "
		    "directory" : "");
		goto out;
	}
	/* A public record: readable whatever the umask of the runner. */
	if (fchmod(t->fd, 0644) == -1) {
		rc = kr_fail(err, KR_E_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((dfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	*out = t;
	t = NULL;
	rc = KR_OK;
out:
	cer_transcript_close(t);
	return rc;
}

enum kr_err
cer_transcript_add(struct cer_transcript *t, const char *type,
    json_t *fields, struct kr_error *err)
{
	static const char *const reserved[] = { "seq", "time", "type",
	    "prev" };
	const char *k;
	json_t *o = NULL, *v;
	char when[21], hx[2 * CER_HASH_LEN + 1];
	enum kr_err rc;
	size_t i;

	if (t->broken) {
		rc = kr_fail(err, KR_E_STATE, "%s: an earlier write failed; "
		    "the transcript ends there", CER_TRANSCRIPT_FILE);
		goto out;
	}
	if (type == NULL || etype_of(type) == T_COUNT ||
	    (fields != NULL && !json_is_object(fields))) {
		rc = kr_fail(err, KR_E_INTERNAL, "transcript entry of "
		    "unknown type %s", type ? type : "(null)");
		goto out;
	}
	fmt_time(kr_now(), when);
	kr_hex(t->st.head, CER_HASH_LEN, hx);
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "seq", json_integer((json_int_t)
	    (t->st.entries + 1))) != 0 ||
	    json_object_set_new(o, "time", json_string(when)) != 0 ||
	    json_object_set_new(o, "type", json_string(type)) != 0) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	json_object_foreach(fields, k, v) {
		for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
			if (strcmp(k, reserved[i]) == 0) {
				rc = kr_fail(err, KR_E_INTERNAL, "transcript "
				    "entry field \"%s\" is reserved", k);
				goto out;
			}
		if (json_object_set(o, k, v) != 0) {
			rc = kr_fail(err, KR_E_NOMEM, "out of memory");
			goto out;
		}
	}
	if (json_object_set_new(o, "prev", json_string(hx)) != 0) {
		rc = kr_fail(err, KR_E_NOMEM, "out of memory");
		goto out;
	}
	rc = commit(t, o, err);
out:
	json_decref(o);
	json_decref(fields);
	return rc;
}

const uint8_t *
cer_transcript_head(const struct cer_transcript *t)
{
	return t->st.head;
}

enum kr_err
cer_transcript_sign(struct cer_transcript *t, const char *signer,
    const uint8_t *sk, struct kr_error *err)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	uint8_t msg[MSG_LEN];
	char pkx[2 * sizeof(pk) + 1], hx[2 * CER_HASH_LEN + 1];
	char sigx[2 * sizeof(sig) + 1];
	json_t *o;
	enum kr_err rc;

	if (t->broken)
		return kr_fail(err, KR_E_STATE, "%s: an earlier write failed",
		    CER_TRANSCRIPT_FILE);
	if (!t->st.ended)
		return kr_fail(err, KR_E_STATE, "%s: sign after the end "
		    "entry", CER_TRANSCRIPT_FILE);
	if (signer == NULL)
		return kr_fail(err, KR_E_INTERNAL, "no signer name");
	if (crypto_sign_ed25519_sk_to_pk(pk, sk) != 0)
		return kr_fail(err, KR_E_CRYPTO, "Ed25519 public key");
	sig_message(t->st.head, msg);
	if (crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk) != 0)
		return kr_fail(err, KR_E_CRYPTO, "Ed25519 signature");
	kr_hex(pk, sizeof(pk), pkx);
	kr_hex(t->st.head, CER_HASH_LEN, hx);
	kr_hex(sig, sizeof(sig), sigx);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "signature",
	    "signer", signer, "ed25519", pkx, "signed", hx, "sig", sigx);
	if (o == NULL)
		return kr_fail(err, KR_E_NOMEM, "out of memory");
	rc = commit(t, o, err);
	json_decref(o);
	return rc;
}

void
cer_transcript_close(struct cer_transcript *t)
{
	if (t == NULL)
		return;
	if (t->fd != -1) {
		(void)fsync(t->fd);
		close(t->fd);
	}
	vstate_free(&t->st);
	free(t->dir);
	free(t);
}
