/*
 * fuzz_script.c: feed arbitrary bytes to the ceremony script parser.
 * It must never crash or leak, every refusal must say where, and
 * whatever it accepts must hold the promises the runner relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../ceremony/script.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What the runner may assume of any accepted script. */
static void
check(const struct cer_script *s)
{
	const struct cer_step *st;
	size_t i, j, witness = 0;
	int active = 0;

	if (s->name == NULL || s->title == NULL || s->purpose == NULL ||
	    s->nsteps == 0 || cer_script_role(s, "admin") == NULL)
		abort();
	for (i = 0; i < s->nroles; i++) {
		if (s->roles[i].nparticipants == 0 ||
		    (s->roles[i].threshold != 0 && (s->roles[i].threshold < 2 ||
		    s->roles[i].threshold > s->roles[i].nparticipants)))
			abort();
		if (cer_role_is_witness(s->roles[i].id))
			witness++;
	}
	if (witness == 0)
		abort();
	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		if (st->id == NULL || st->title == NULL ||
		    strcmp(cer_action_name(st->action), "unknown") == 0)
			abort();
		if (st->action == CER_ACT_ACTIVATE)
			active = 1;
		if (st->action == CER_ACT_DEACTIVATE)
			active = 0;
		if (cer_action_uses_key(st->action) && !active)
			abort();
		for (j = 0; j < st->nconfirm; j++)
			if (cer_script_role(s, st->confirm[j]) == NULL)
				abort();
		for (j = 0; j < st->noutputs; j++)
			if (st->outputs[j][0] == '/' ||
			    strstr(st->outputs[j], "..") == st->outputs[j])
				abort();
		for (j = 0; j < st->nwith; j++)
			if ((st->with[j].value == NULL) ==
			    (st->with[j].list == NULL))
				abort();
	}
	if (active)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cer_script *s = NULL;
	struct kr_error err;

	memset(&err, 0, sizeof(err));
	if (cer_script_parse((const char *)data, len, "fuzz.yaml", &s,
	    &err) != KR_OK) {
		if (s != NULL || (strncmp(err.msg, "fuzz.yaml:", 10) != 0 &&
		    err.code != KR_E_NOMEM))
			abort();
		return 0;
	}
	check(s);
	cer_script_free(s);
	return 0;
}
