/*
 * transcript.h: the tamper-evident record of a ceremony.  JSON Lines in
 * DIR/transcript.jsonl; every entry carries the BLAKE2b-256 hash of the
 * previous line ("prev"), the first one the hash of the script; at the
 * end, signature lines sign the hash of the last entry with officers'
 * Ed25519 keys.  Format: docs/ceremony.md; byte by byte, and what
 * verify enforces for each entry type: docs/ceremony-transcript.md.
 *
 * Entry (one line, keys in this order, no spaces):
 *   {"seq":N,"time":"YYYY-MM-DDTHH:MM:SSZ","type":"T",...fields...,
 *    "prev":"hex"}
 * Types written by the runner: begin (script name, title, sha256, mode
 * "rehearsal"|"live", participants), step-start (step, title, action),
 * say (step, text), confirm (step, role, who), output (step, path,
 * sha256), record (step, text), key (step, label, spki_sha256,
 * fingerprint), officers (step, officers: [{name, ed25519}]), deviation
 * (step, text), step-end (step, seconds), abort (step, reason), end
 * (status "completed"|"aborted", signers: [names that will sign]).
 * Then zero or more
 *   {"type":"signature","signer":"ann","ed25519":"hex pub",
 *    "signed":"hex of the last entry's hash","sig":"hex"}
 * lines, outside the chain.
 */
#ifndef CER_TRANSCRIPT_H
#define CER_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/kr.h"

#define CER_HASH_LEN 32

/* The file name inside a ceremony directory. */
#define CER_TRANSCRIPT_FILE "transcript.jsonl"

/*
 * A signature line signs these 21 bytes (no NUL) followed by the 32-byte
 * hash of the end entry, so a transcript signature can never be taken
 * for a signature over anything else made with the same key.
 */
#define CER_TRANSCRIPT_SIG_DOMAIN "keyrite-transcript-v1"

struct cer_transcript;

/*
 * Create path (must not exist; O_EXCL, mode 0644); the first entry's
 * prev is script_sha256.  Every entry is written and fsynced before
 * cer_transcript_add returns, so a crash loses at most the entry being
 * written, and the file stays verifiable up to there.
 */
enum kr_err	 cer_transcript_create(const char *path,
		     const uint8_t script_sha256[CER_HASH_LEN],
		     struct cer_transcript **out, struct kr_error *err);

/*
 * Append an entry of type with fields (a JSON object, may be NULL;
 * its reference is stolen): seq, time (kr_now()), type, the fields in
 * insertion order, prev.
 */
enum kr_err	 cer_transcript_add(struct cer_transcript *, const char *type,
		     json_t *fields, struct kr_error *err);

/* The hash of the last entry written. */
const uint8_t	*cer_transcript_head(const struct cer_transcript *);

/*
 * Append a signature line by signer over the hash of the last entry,
 * with Ed25519 secret key sk (crypto_sign_SECRETKEYBYTES).  sk is only
 * read.
 */
enum kr_err	 cer_transcript_sign(struct cer_transcript *,
		     const char *signer, const uint8_t *sk,
		     struct kr_error *err);

/* Close (fsync); safe on NULL. */
void		 cer_transcript_close(struct cer_transcript *);

struct cer_verify {
	size_t		entries;	/* chained entries */
	size_t		signatures;
	size_t		outputs;	/* output files checked */
	int		completed;	/* an end entry with "completed" */
	char		abort_step[64];	/* when aborted */
	char		abort_reason[256];
	char		final_hash[2 * CER_HASH_LEN + 1];
	char		script[128];	/* script name from begin */
	char		mode[16];	/* rehearsal | live */
	/* Added: the first entry's prev, and whether it was checked. */
	char		anchor[2 * CER_HASH_LEN + 1];
	int		anchor_checked;	/* script_sha256 was given */
};

/*
 * Verify DIR/transcript.jsonl: each line is one JSON object of the form
 * above; seq counts from 1; each prev is the hash of the line before (the
 * first, of the script: when script_sha256 is not NULL it must match);
 * every output entry's file (relative to dir) exists and has its
 * sha256; every signature line signs the final hash with the key an
 * officers entry recorded for that signer, each signer once.  The first
 * problem is named: "transcript.jsonl: entry 7 (line 7): prev does not
 * match the hash of entry 6".  A transcript that ends with an abort
 * verifies (res->completed is 0).
 */
enum kr_err	 cer_transcript_verify(const char *dir,
		     const uint8_t *script_sha256, struct cer_verify *res,
		     struct kr_error *err)
		     __attribute__((warn_unused_result));

/*
 * The same over the text of a transcript (len bytes, need not be
 * NUL-terminated).  Output files are looked up under dir; when dir is
 * NULL they are not checked (res->outputs stays 0).  Used by
 * cer_transcript_verify and the fuzz target.  The writer applies the
 * same rules to each line before appending it: cer_transcript_add and
 * cer_transcript_sign refuse (and write nothing) what would not verify.
 */
enum kr_err	 cer_transcript_verify_buf(const char *text, size_t len,
		     const char *dir, const uint8_t *script_sha256,
		     struct cer_verify *res, struct kr_error *err)
		     __attribute__((warn_unused_result));

/*
 * Read every line of DIR/transcript.jsonl as JSON objects (for the
 * report), after cer_transcript_verify.  *out is a JSON array.
 */
enum kr_err	 cer_transcript_read(const char *dir, json_t **out,
		     struct kr_error *err);

#endif /* CER_TRANSCRIPT_H */
