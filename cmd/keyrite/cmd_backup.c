/*
 * cmd_backup.c: the keyrite backup verb.  create, verify and restore are
 * in cmd_backupkey.c; print and type-in (paper cards) in cmd_card.c.
 */
#include "cli.h"

int
cmd_backup(int argc, char **argv)
{
	static const struct cli_sub sub[] = {
		{ "create", backup_create_main, &backup_create_cmd },
		{ "verify", backup_verify_main, &backup_verify_cmd },
		{ "restore", backup_restore_main, &backup_restore_cmd },
		{ "print", backup_print_main, &backup_print_cmd },
		{ "type-in", backup_type_in_main, &backup_type_in_cmd },
	};

	return cli_dispatch("backup", sub, sizeof(sub) / sizeof(sub[0]), argc,
	    argv);
}
