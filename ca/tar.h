/*
 * tar.h: flat sets of files, as a rotation bundle is: read from and
 * written to a directory (a new one, in one step), and carried in a
 * deterministic ustar archive.  The reader takes untrusted input: it
 * refuses absolute paths, '..', subdirectories, links and every other
 * entry type but a plain file, duplicate names, and sizes over the
 * limits below.
 */
#ifndef CA_TAR_H
#define CA_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "../common/kr.h"

#define CA_FILE_NAME_MAX	64			/* bytes, no NUL */
#define CA_FILE_MAX		(4 * 1024 * 1024)	/* one file */
#define CA_FILES_TOTAL_MAX	(32 * 1024 * 1024)	/* all of them */
#define CA_FILES_MAX		128			/* entries */

/* One file of a set: name and bytes (a NUL follows, not counted). */
struct ca_file {
	char		*name;
	uint8_t		*data;
	size_t		 len;
};

/* A set of files with distinct names, in no particular order. */
struct ca_files {
	struct ca_file	*v;
	size_t		 n;
};

/*
 * Whether name may name a file of a set: 1 to CA_FILE_NAME_MAX bytes
 * of [A-Za-z0-9._-], not starting with '.' (so never "." or "..", and
 * never a hidden file).
 */
int		 ca_file_name_ok(const char *name);

/*
 * Add a copy of data as name.  KR_E_USAGE for a bad name, KR_E_EXISTS
 * when the set has one by that name already, KR_E_PARSE beyond the
 * limits above.
 */
enum kr_err	 ca_files_add(struct ca_files *, const char *name,
		     const void *data, size_t len, struct kr_error *err);

/* The same, replacing the file of that name if there is one. */
enum kr_err	 ca_files_put(struct ca_files *, const char *name,
		     const void *data, size_t len, struct kr_error *err);

/* The file named name, or NULL. */
const struct ca_file *ca_files_get(const struct ca_files *,
		     const char *name);

/* Sort by name (byte order), as the archive and listings show them. */
void		 ca_files_sort(struct ca_files *);

void		 ca_files_free(struct ca_files *);

/*
 * Read every entry of directory dir: each must be a regular file (not a
 * link, directory or device) with a good name, within the limits.
 */
enum kr_err	 ca_files_read_dir(const char *dir, struct ca_files *out,
		     struct kr_error *err);

/*
 * Write the set as the new directory dir, in one step: the files
 * (mode 0644) go into a temporary sibling directory, each fsynced,
 * which is renamed to dir.  dir must not exist; on failure nothing is
 * left behind.
 */
enum kr_err	 ca_files_write_dir(const char *dir, const struct ca_files *,
		     struct kr_error *err);

/*
 * The set as a ustar archive: entries sorted by name, each a regular
 * file with mode 0644, uid and gid 0, no user or group name and mtime
 * 0, followed by two zero blocks; the same set always gives the same
 * bytes.  *out is malloc'd (caller frees).
 */
enum kr_err	 ca_tar_write(const struct ca_files *, uint8_t **out,
		     size_t *len, struct kr_error *err);

/*
 * Read a ustar archive (POSIX "ustar\0" "00", or GNU's "ustar  \0"):
 * KR_E_PARSE, naming the entry, for anything but regular files with
 * good names (see ca_file_name_ok) and no prefix, for a bad checksum
 * or size field, a duplicate name, a file or archive over the limits,
 * a missing end-of-archive marker, or anything but zeros after it.
 */
enum kr_err	 ca_tar_read(const uint8_t *buf, size_t len,
		     struct ca_files *out, struct kr_error *err);

#endif /* CA_TAR_H */
