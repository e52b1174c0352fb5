/*
 * NAME
 *	fuzz_auth - libFuzzer target: what sender authentication parses
 *	from senders (src/auth)
 * DESCRIPTION
 *	The input is read as:
 *	  - an Authentication-Results value: its authserv-id, and whether
 *	    it is ours (forgery removal);
 *	  - an address list (From, Reply-To, Sender);
 *	  - an SPF record through the screen in front of libspf2;
 *	  - a DNS answer packet as the SPF layer reads it (A, AAAA, MX, PTR,
 *	    TXT; screened TXT records compiled by libspf2) and as TXT
 *	    records (DKIM keys, DMARC records);
 *	  - a DMARC record parsed by libopendmarc (as our fetched record is);
 *	and an Authentication-Results value is formatted from the input's
 *	strings as domains, selector, HELO and reason.
 *	Checks: the authserv-id found is non-empty and within its buffer,
 *	every mailbox address contains '@', our A-R value stays within its
 *	buffer and printable ASCII (plus the "\n\t" folds).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "util/util.h"

#include <opendmarc/dmarc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_printable(const char *s)
{
	for (; *s; s++)
		if ((*s < ' ' && *s != '\n' && *s != '\t') || (unsigned char)*s >= 0x7f)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = x_malloc(size + 1), id[64], out[AUTH_HEADER_MAX];
	auth_mailbox boxes[8];
	mw_auth_info *a = x_calloc(1, sizeof(*a));
	size_t n, i;
	char **txt;

	memcpy(s, data, size);
	s[size] = 0;

	if (auth_ar_authserv_id(s, size, id, sizeof(id)) == 0 && (id[0] == 0 || strlen(id) >= sizeof(id)))
		__builtin_trap();
	(void)auth_ar_is_ours(s, size, "mx.example.com");

	n = auth_mailboxes(s, boxes, 8);
	for (i = 0; i < n; i++)
		if (strchr(boxes[i].addr, '@') == NULL)
			__builtin_trap();

	(void)auth_spf_record_safe(s, strlen(s));
	(void)auth_spf_answer(data, size);
	txt = auth_dns_txt(data, size, &n);
	if (txt)
		auth_dns_txt_free(txt, n);
	(void)auth_dns_valid_name(s);

	{
		DMARC_POLICY_T *p = opendmarc_policy_connect_init((unsigned char *)"192.0.2.1", 0);
		if (p) {
			(void)opendmarc_policy_store_from_domain(p, (unsigned char *)"example.com");
			if (size < 2048)
				(void)opendmarc_policy_parse_dmarc(p, (unsigned char *)"example.com",
				                                   (unsigned char *)s);
			opendmarc_policy_connect_shutdown(p);
		}
	}

	a->ran = 1;
	a->nsigs = 2;
	mw_strlcpy(a->sigs[0].domain, s, sizeof(a->sigs[0].domain));
	mw_strlcpy(a->sigs[0].selector, s, sizeof(a->sigs[0].selector));
	mw_strlcpy(a->sigs[1].why, s, sizeof(a->sigs[1].why));
	a->sigs[1].result = AUTH_FAIL;
	mw_strlcpy(a->helo, s, sizeof(a->helo));
	mw_strlcpy(a->spf_domain, s, sizeof(a->spf_domain));
	mw_strlcpy(a->from_domain, s, sizeof(a->from_domain));
	a->dmarc_p = 'r';
	auth_ar_format(a, "mx.example.com", out, sizeof(out));
	if (strlen(out) >= sizeof(out))
		__builtin_trap();
	/* what a sender wrote is quoted and made printable */
	check_printable(out);

	x_free(a);
	x_free(s);
	return 0;
}
