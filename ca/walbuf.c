/*
 * walbuf.c: an SQLite VFS that gathers a transaction's writes to the
 * write-ahead log into one write (see walbuf.h).
 *
 * SQLite writes each log frame as two writes, its 24-byte header and
 * then its page, so a transaction of ten pages is twenty pwrite(2)s.
 * Here the writes that extend the log are kept in memory, in order, and
 * handed to the file system in one write when the transaction's commit
 * frame is complete: the frame whose header carries the database size
 * after the commit (bytes 4-7, not zero; file format, "WAL File
 * Format").  SQLite makes the commit visible to other connections (the
 * wal-index header) only after it has written that frame, so no reader
 * can see a frame that is still in memory here.
 *
 * What else SQLite writes to the log goes to the file at once, after
 * what is held: the log header when it starts the log again (offset 0),
 * a frame rewritten in place within a transaction, and the checksums it
 * rewrites after the commit frame (walRewriteChecksums).  Anything that
 * reads, syncs, sizes, truncates or closes the log first writes out what
 * is held.  Other files (the database, its -shm) pass straight through.
 *
 * A write that fails is reported by the call that made it happen, which
 * for the commit frame fails the transaction, as a failed direct write
 * would.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "walbuf.h"

#define WB_CAP		(1u << 20)	/* held at most; beyond, written */
#define WB_FRAME_HDR	24		/* a log frame's header */
/*
 * The most handed to the unix VFS's xWrite at once: it masks the size
 * of each pwrite with 0x1ffff, so a larger write is cut short (and one
 * of 128 KiB writes nothing: SQLITE_FULL).
 */
#define WB_CHUNK	0x1f000

struct wb_file {
	sqlite3_file	 base;
	sqlite3_file	*real;		/* the unix VFS's file, after us */
	int		 wal;		/* a log: writes are gathered */
	uint8_t		*buf;
	size_t		 len;
	sqlite3_int64	 off;		/* where buf[0] goes in the file */
	int		 commit;	/* the last header was a commit's */
	int		 sealed;	/* committed: rewrites go straight */
	sqlite3_int64	 next;		/* where the next frame would go */
	unsigned long	 writes;	/* writes made to the real file */
};

static sqlite3_vfs wb_vfs;
static sqlite3_vfs *wb_real;
static pthread_once_t wb_once = PTHREAD_ONCE_INIT;
static int wb_ok;

#define REAL(f)	(((struct wb_file *)(f))->real)
#define RM(f)	(REAL(f)->pMethods)

static int
real_write(struct wb_file *p, const void *b, int amt, sqlite3_int64 off)
{
	p->writes++;
	return p->real->pMethods->xWrite(p->real, b, amt, off);
}

/* Write out what is held, in pieces the unix VFS writes whole. */
static int
wb_flush(struct wb_file *p)
{
	size_t done = 0, n;
	int rc = SQLITE_OK;

	while (done < p->len && rc == SQLITE_OK) {
		n = p->len - done < WB_CHUNK ? p->len - done : WB_CHUNK;
		rc = real_write(p, p->buf + done, (int)n,
		    p->off + (sqlite3_int64)done);
		done += n;
	}
	p->len = 0;
	return rc;
}

static int
wb_close(sqlite3_file *f)
{
	struct wb_file *p = (struct wb_file *)f;
	int rc, rc2;

	rc = wb_flush(p);
	rc2 = RM(f)->xClose(REAL(f));
	free(p->buf);
	p->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
wb_read(sqlite3_file *f, void *b, int amt, sqlite3_int64 off)
{
	int rc;

	if ((rc = wb_flush((struct wb_file *)f)) != SQLITE_OK)
		return rc;
	return RM(f)->xRead(REAL(f), b, amt, off);
}

/* Gather b into what is held (appending, or over bytes held). */
static int
wb_hold(struct wb_file *p, const void *b, int amt, sqlite3_int64 off)
{
	int rc;

	if (p->len > 0 && off >= p->off &&
	    off + amt <= p->off + (sqlite3_int64)p->len) {
		memcpy(p->buf + (off - p->off), b, (size_t)amt);
		return SQLITE_OK;
	}
	if (p->len > 0 && (off != p->off + (sqlite3_int64)p->len ||
	    p->len + (size_t)amt > WB_CAP))
		if ((rc = wb_flush(p)) != SQLITE_OK)
			return rc;
	if ((size_t)amt > WB_CHUNK)
		return real_write(p, b, amt, off);
	if (p->len == 0)
		p->off = off;
	memcpy(p->buf + p->len, b, (size_t)amt);
	p->len += (size_t)amt;
	return SQLITE_OK;
}

static int
wb_write(sqlite3_file *f, const void *b, int amt, sqlite3_int64 off)
{
	struct wb_file *p = (struct wb_file *)f;
	const uint8_t *h = b;
	int rc, commit_page;

	if (!p->wal || p->buf == NULL)
		return RM(f)->xWrite(REAL(f), b, amt, off);
	/*
	 * After a commit, only the next frame (or a new log's header)
	 * starts gathering again; the checksums SQLite rewrites over the
	 * frames just committed go to the file at once.
	 */
	if (p->sealed) {
		if (off != p->next && off != 0)
			return real_write(p, b, amt, off);
		p->sealed = 0;
	}
	commit_page = p->commit && amt != WB_FRAME_HDR;
	p->commit = amt == WB_FRAME_HDR &&
	    (h[4] | h[5] | h[6] | h[7]) != 0;
	if ((rc = wb_hold(p, b, amt, off)) != SQLITE_OK)
		return rc;
	if (!commit_page)
		return SQLITE_OK;
	/* The commit frame is whole: out with the transaction. */
	p->sealed = 1;
	p->next = off + amt;
	return wb_flush(p);
}

static int
wb_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc;

	if ((rc = wb_flush((struct wb_file *)f)) != SQLITE_OK)
		return rc;
	return RM(f)->xTruncate(REAL(f), size);
}

static int
wb_sync(sqlite3_file *f, int flags)
{
	int rc;

	if ((rc = wb_flush((struct wb_file *)f)) != SQLITE_OK)
		return rc;
	return RM(f)->xSync(REAL(f), flags);
}

static int
wb_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc;

	if ((rc = wb_flush((struct wb_file *)f)) != SQLITE_OK)
		return rc;
	return RM(f)->xFileSize(REAL(f), size);
}

static int
wb_lock(sqlite3_file *f, int l)
{
	return RM(f)->xLock(REAL(f), l);
}

static int
wb_unlock(sqlite3_file *f, int l)
{
	return RM(f)->xUnlock(REAL(f), l);
}

static int
wb_reserved(sqlite3_file *f, int *out)
{
	return RM(f)->xCheckReservedLock(REAL(f), out);
}

static int
wb_fcntl(sqlite3_file *f, int op, void *arg)
{
	int rc;

	if ((rc = wb_flush((struct wb_file *)f)) != SQLITE_OK)
		return rc;
	return RM(f)->xFileControl(REAL(f), op, arg);
}

static int
wb_sector(sqlite3_file *f)
{
	return RM(f)->xSectorSize(REAL(f));
}

static int
wb_devchar(sqlite3_file *f)
{
	return RM(f)->xDeviceCharacteristics(REAL(f));
}

static int
wb_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
	return RM(f)->xShmMap(REAL(f), pg, sz, extend, pp);
}

static int
wb_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return RM(f)->xShmLock(REAL(f), offset, n, flags);
}

static void
wb_shm_barrier(sqlite3_file *f)
{
	RM(f)->xShmBarrier(REAL(f));
}

static int
wb_shm_unmap(sqlite3_file *f, int del)
{
	return RM(f)->xShmUnmap(REAL(f), del);
}

static int
wb_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	return RM(f)->xFetch(REAL(f), off, amt, pp);
}

static int
wb_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return RM(f)->xUnfetch(REAL(f), off, p);
}

/* For files whose methods are version 3, as the unix VFS's are. */
static const sqlite3_io_methods wb_methods = {
	3, wb_close, wb_read, wb_write, wb_truncate, wb_sync, wb_size,
	wb_lock, wb_unlock, wb_reserved, wb_fcntl, wb_sector, wb_devchar,
	wb_shm_map, wb_shm_lock, wb_shm_barrier, wb_shm_unmap, wb_fetch,
	wb_unfetch,
};

static int
wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
    int *outflags)
{
	struct wb_file *p = (struct wb_file *)f;
	int rc;

	(void)vfs;
	memset(p, 0, sizeof(*p));
	p->real = (sqlite3_file *)(p + 1);
	rc = wb_real->xOpen(wb_real, name, p->real, flags, outflags);
	if (rc != SQLITE_OK || p->real->pMethods == NULL) {
		/* SQLite closes nothing of a failed open. */
		if (p->real->pMethods != NULL)
			p->real->pMethods->xClose(p->real);
		p->base.pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	if (p->real->pMethods->iVersion < 3) {
		p->real->pMethods->xClose(p->real);
		p->base.pMethods = NULL;
		return SQLITE_CANTOPEN;
	}
	/* Without the memory a log is written directly, as before. */
	p->wal = (flags & SQLITE_OPEN_WAL) != 0;
	if (p->wal)
		p->buf = malloc(WB_CAP);
	p->base.pMethods = &wb_methods;
	return SQLITE_OK;
}

static void
wb_init(void)
{
	if ((wb_real = sqlite3_vfs_find("unix")) == NULL)
		return;
	wb_vfs = *wb_real;
	wb_vfs.iVersion = wb_real->iVersion;
	wb_vfs.szOsFile = (int)sizeof(struct wb_file) + wb_real->szOsFile;
	wb_vfs.zName = KR_WALBUF_VFS;
	wb_vfs.pNext = NULL;
	wb_vfs.xOpen = wb_open;
	wb_ok = sqlite3_vfs_register(&wb_vfs, 0) == SQLITE_OK;
}

const char *
kr_walbuf_vfs(void)
{
	pthread_once(&wb_once, wb_init);
	return wb_ok ? KR_WALBUF_VFS : NULL;
}

unsigned long
kr_walbuf_writes(sqlite3_file *f)
{
	if (f == NULL || f->pMethods != &wb_methods)
		return 0;
	return ((struct wb_file *)f)->writes;
}
