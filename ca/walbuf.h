/*
 * walbuf.h: an SQLite VFS ("keyrite-walbuf", over the unix VFS) that
 * writes a transaction's log frames to the file in one write, not two
 * a frame.  The issuance store's group connection, which writes nearly
 * every transaction keyrited makes, opens with it (ca/store.c); see
 * docs/formats-store.md, "Group commit".
 */
#ifndef CA_WALBUF_H
#define CA_WALBUF_H

#include <sqlite3.h>

#define KR_WALBUF_VFS	"keyrite-walbuf"

/* The VFS's name, registered on first use; NULL if it cannot be. */
const char	*kr_walbuf_vfs(void);

/*
 * How many writes the VFS has made to the real file behind f (a log
 * opened through it; 0 for any other file).  For tests.
 */
unsigned long	 kr_walbuf_writes(sqlite3_file *f);

#endif
