/*
 * inspect.h: a readable (or JSON) report on a certificate, CSR or CRL
 * file, PEM or DER, including PEM files with several objects.  The one
 * place in the library that prints: to the FILE* it is given.
 */
#ifndef CA_INSPECT_H
#define CA_INSPECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/kr.h"

/*
 * Report on every certificate, CSR and CRL in path: type, subject,
 * issuer, serial, validity relative to kr_now(), public key, SHA-256
 * fingerprint and SPKI pin, every extension, CSR signature check, CRL
 * entries.  With json set the report is one JSON object.  The input is
 * untrusted: everything printed is escaped.  KR_E_PARSE when nothing
 * could be recognised (nothing is written then) or when some PEM block
 * could not be parsed (the rest is still reported).
 */
enum kr_err	 ca_inspect_file(const char *path, FILE *out, int json,
		     struct kr_error *err);

/* The same over a buffer; name stands for the file in the report. */
enum kr_err	 ca_inspect_buf(const uint8_t *buf, size_t len,
		     const char *name, FILE *out, int json,
		     struct kr_error *err);

#endif /* CA_INSPECT_H */
