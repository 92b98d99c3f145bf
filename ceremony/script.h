/*
 * script.h: ceremony scripts.  A script is the reviewed, printable plan
 * of a ceremony: who takes part in which role, and numbered steps, each
 * with words read to the room, one action, the roles that must confirm
 * it, and the files it produces.  YAML, parsed strictly (unknown keys,
 * missing fields, wrong types are errors with file and line), then
 * checked as a whole before anything runs.  Format: docs/ceremony.md.
 *
 *   version: 1
 *   name: root-init
 *   title: Lab root key generation
 *   purpose: >
 *     Generate the lab root key in the HSM, ...
 *   roles:
 *     - id: admin                # ceremony administrator (exactly one)
 *       title: Ceremony administrator
 *       participants: [alice]
 *     - id: witness              # internal witness (at least one)
 *       title: Internal witness
 *       participants: [wendy]
 *     - id: officers             # hold the token's activation quorum
 *       title: Security officers
 *       participants: [ann, ben, cat]
 *       threshold: 2
 *     - id: custodians           # hold backup shares
 *       title: Backup custodians
 *       participants: [carol, dave, erin, frank, gina]
 *       threshold: 3
 *   steps:
 *     - id: bags
 *       title: Check the tamper-evident bags
 *       say: Read aloud the serial number on each bag ...
 *       action: confirm
 *       confirm: [witness]
 *     - id: keygen
 *       title: Generate the root key
 *       say: ...
 *       action: keygen
 *       with: { label: root-2026, type: ec-p384 }
 *       confirm: [admin, witness]
 *     - id: selfsign
 *       action: root-selfsign
 *       with: { key: root-2026, subject: "CN=Example Lab Root,O=Example",
 *               days: 3650, permitted_dns: [lab.internal],
 *               permitted_ip: [10.0.0.0/8] }
 *       outputs: [root.pem]
 *       ...
 *
 * The PKCS#11 module and token are not in the script (they differ
 * between rehearsal and the real thing); the runner is given them.
 */
#ifndef CER_SCRIPT_H
#define CER_SCRIPT_H

#include <stddef.h>

#include "../common/kr.h"

enum cer_action {
	CER_ACT_CONFIRM = 1,	/* a human check, e.g. bag serials */
	CER_ACT_QUORUM_INIT,	/* put the token under officer control */
	CER_ACT_ACTIVATE,	/* officers' quorum logs in to the token */
	CER_ACT_KEYGEN,		/* key pair generated inside the token */
	CER_ACT_ROOT_SELFSIGN,	/* self-signed root certificate */
	CER_ACT_SIGN_CSR,	/* intermediate certificate from a CSR */
	CER_ACT_CRL,		/* root CRL */
	CER_ACT_BACKUP_CREATE,	/* Shamir-split backup among custodians */
	CER_ACT_BACKUP_RESTORE,	/* restore a backup into the token */
	CER_ACT_CROSS_SIGN,	/* cross-certificate (rotation) */
	CER_ACT_RECORD,		/* free text, or a file's SHA-256 */
	CER_ACT_VERIFY_FILE,	/* a file's hash against a value read aloud */
	CER_ACT_DEACTIVATE,	/* log out, close the token */
	CER_ACT_BUNDLE_BUILD,	/* an unsigned rotation bundle */
	CER_ACT_BUNDLE_SIGN,	/* a root's signature on a bundle */
	CER_ACT_BUNDLE_VERIFY,	/* a bundle checked against given roots */
	CER_ACT_BUNDLE_PACK,	/* a signed bundle as one archive */
};

/* Does the action use the token key (needs an active quorum)? */
int		 cer_action_uses_key(enum cer_action);
const char	*cer_action_name(enum cer_action);

/*
 * Role ids with a meaning.  admin: exactly one such role.  Witness
 * roles: "witness" and any id starting "witness-" (witness-external);
 * at least one, and one must confirm every key step.  officers: the
 * token's activation quorum (activate, quorum-init); custodians: the
 * backup shares (backup-create, backup-restore).  Only officers and
 * custodians take a threshold, and must.
 */
#define CER_ROLE_ADMIN		"admin"
#define CER_ROLE_WITNESS	"witness"
#define CER_ROLE_OFFICERS	"officers"
#define CER_ROLE_CUSTODIANS	"custodians"

/* Is id a witness role ("witness" or "witness-...")? */
int		 cer_role_is_witness(const char *id);

/* A parameter of an action's "with" map: a scalar or a list. */
struct cer_param {
	char		 *name;
	char		 *value;	/* scalar, or NULL for a list */
	char		**list;		/* list items, or NULL */
	size_t		  nlist;
	int		  line;
	int		  implicit;	/* not in the file: the default */
};

struct cer_role {
	char		 *id;		/* admin, witness, officers, ... */
	char		 *title;
	char		**participants;
	size_t		  nparticipants;
	unsigned	  threshold;	/* 0 when not given */
	int		  line;
};

struct cer_step {
	char		 *id;
	char		 *title;
	char		 *say;		/* read to the room; may be NULL */
	enum cer_action	  action;
	struct cer_param *with;
	size_t		  nwith;
	char		**confirm;	/* role ids */
	size_t		  nconfirm;
	char		**outputs;	/* paths relative to the output dir */
	size_t		  noutputs;
	int		  line;
};

struct cer_script {
	char		 *source;	/* file name, for messages */
	char		 *name;
	char		 *title;
	char		 *purpose;
	struct cer_role	 *roles;
	size_t		  nroles;
	struct cer_step	 *steps;
	size_t		  nsteps;
	unsigned char	  sha256[32];	/* of the script file as read */
};

/*
 * Parse and check a script.  Refused, with "FILE:LINE: message": YAML
 * errors, unknown or duplicate keys, missing fields, an unknown action,
 * a duplicate step id, a confirm naming no role, no admin or no witness
 * role, a parameter the action does not take or lacks, a key step
 * (cer_action_uses_key) not inside an activate ... deactivate span or
 * not confirmed by a witness, an output path that is absolute or
 * contains "..", and two steps producing the same output.
 */
enum kr_err	 cer_script_parse(const char *text, size_t len,
		     const char *name, struct cer_script **out,
		     struct kr_error *err);
enum kr_err	 cer_script_load(const char *path, struct cer_script **out,
		     struct kr_error *err);
void		 cer_script_free(struct cer_script *);

/* Lookups (NULL when absent). */
const struct cer_role	*cer_script_role(const struct cer_script *,
			     const char *id);
const struct cer_param	*cer_step_param(const struct cer_step *,
			     const char *name);

#endif /* CER_SCRIPT_H */
