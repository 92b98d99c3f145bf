/*
 * report.h: what people read on paper.  Before a ceremony, the plan: the
 * script laid out for printing, with a sign-off table and boxes for
 * initials and times at every step.  After it, the report: what the
 * transcript says happened, step by step, with the hashes and
 * fingerprints grouped for reading aloud, the signatures and a block for
 * wet signatures.  HTML (one self-contained file: inline CSS, print
 * rules, no script, nothing fetched) and Markdown.  Every string that
 * comes from a script or a transcript is escaped.  What the report
 * contains: docs/ceremony-transcript.md.
 */
#ifndef CER_REPORT_H
#define CER_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "../common/kr.h"
#include "script.h"
#include "transcript.h"

/*
 * The printable script: title, purpose, the script's SHA-256, roles and
 * participants, a sign-off table (name, role, signature, date) with a
 * row for every participant, then each step numbered with its title,
 * the words to read aloud, the action and its parameters, the roles
 * that confirm it, its outputs, and blank Initial / Time boxes.
 * Fails with KR_E_IO when out cannot be written.
 */
enum kr_err	 cer_plan_html(const struct cer_script *s, FILE *out,
		     struct kr_error *err);
enum kr_err	 cer_plan_md(const struct cer_script *s, FILE *out,
		     struct kr_error *err);

/*
 * The report of a ceremony from its transcript: entries is the array
 * from cer_transcript_read; v the result of a cer_transcript_verify
 * that succeeded, or NULL when the transcript was not verified (the
 * report then says so at the top).  s, when not NULL, supplies step
 * numbers, role titles and the steps never reached; without it the
 * report is built from the transcript alone.  Mode (REHEARSAL / LIVE)
 * and status (completed / ABORTED, where and why) are in the header
 * with the final hash; then every step with its start time, duration,
 * confirmations, outputs, keys, records and deviations; the signature
 * table; a blank "witnessed by" block.
 */
enum kr_err	 cer_report_html(const struct cer_script *s, json_t *entries,
		     const struct cer_verify *v, FILE *out,
		     struct kr_error *err);
enum kr_err	 cer_report_md(const struct cer_script *s, json_t *entries,
		     const struct cer_verify *v, FILE *out,
		     struct kr_error *err);

#endif /* CER_REPORT_H */
