/*
 * file.h: reading inputs and writing outputs so that nothing is ever left
 * half-written, and reading secrets (PINs, passphrases) into guarded
 * memory.
 */
#ifndef KR_FILE_H
#define KR_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "kr.h"

/*
 * Read a whole file (at most max bytes) into a malloc'd buffer with a
 * trailing NUL that is not counted in *len.  The caller frees *buf.
 */
enum kr_err	 kr_file_read(const char *path, size_t max, uint8_t **buf,
		     size_t *len, struct kr_error *err);

/*
 * Check that path may be written: it must not exist unless force is
 * set, and its directory must exist.  Called before any PIN is asked
 * for, so an operator never authenticates for a command that will fail
 * on its output.
 */
enum kr_err	 kr_out_check(const char *path, int force,
		     struct kr_error *err);

/*
 * Write buf to path atomically: a temporary file in the same directory
 * is written, fsynced, given mode, and renamed over path (or linked to
 * it when !force, so a file that appeared meanwhile is never replaced).
 * On failure nothing is left behind.
 */
enum kr_err	 kr_file_write(const char *path, const void *buf, size_t len,
		     unsigned mode, int force, struct kr_error *err);

/*
 * A secret read into sodium_malloc'd memory.  kr_secret_free wipes and
 * releases it; it is safe on NULL.
 */
struct kr_secret {
	char	*buf;		/* NUL-terminated, sodium_malloc'd */
	size_t	 len;
};

/*
 * Read a secret from a file (first line, trailing newline removed).
 * The file must not be empty.  what names the secret in errors.
 */
enum kr_err	 kr_secret_from_file(const char *path, const char *what,
		     struct kr_secret **out, struct kr_error *err);

/*
 * Prompt for a secret on the controlling terminal without echo.  With
 * confirm set, ask twice and require both to match.  Fails with
 * KR_E_USAGE when there is no terminal.
 */
enum kr_err	 kr_secret_prompt(const char *prompt, int confirm,
		     struct kr_secret **out, struct kr_error *err);

/* Wrap len bytes (copied) as a secret. */
enum kr_err	 kr_secret_from_bytes(const void *buf, size_t len,
		     struct kr_secret **out, struct kr_error *err);

void		 kr_secret_free(struct kr_secret *);

/*
 * fsync a directory, so that the names just made in it are on the disk;
 * kr_dir_sync_of syncs the directory that holds path.
 */
enum kr_err	 kr_dir_sync(const char *dir, struct kr_error *err);
enum kr_err	 kr_dir_sync_of(const char *path, struct kr_error *err);

/* mkdir -p with mode for the last component; existing is fine. */
enum kr_err	 kr_mkdirs(const char *path, unsigned mode,
		     struct kr_error *err);

#endif /* KR_FILE_H */
