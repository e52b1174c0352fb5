/*
 * NAME
 *	policy_check.c - value checks for settings other programs read
 * SYNOPSIS
 *	if (cfgcheck_relay_host("[192.0.2.25]:25", why, sizeof(why)) < 0) ...
 * DESCRIPTION
 *	The [mta], [system] and [alert] settings (and [domains] protected)
 *	leave Mailwarden: they are written into Postfix's main.cf, handed to
 *	the appliance's network scripts as shell variables, or put on
 *	sendmail's command line.  Each check accepts a small, plain grammar
 *	(host names of LDH labels, dotted quads, local@domain of ASCII
 *	letters, digits and ._+=-), so an accepted value can never carry
 *	white space, a quote, a '|', a '$', a backslash, a comma or a
 *	control character into those files: the root side that applies them
 *	(`mailwarden appliance`) loads the configuration through the same
 *	checks again.  Internationalised domains are given in their A-label
 *	form (xn--...), as Postfix wants them.
 * LIMITS
 *	253 bytes per host name, 63 per label, 64 per local part; ports
 *	1..65535.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "policy/policy.h"
#include "util/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *why, size_t len, const char *fmt, const char *v)
{
	char shown[64];

	snprintf(why, len, fmt, mw_printable(shown, sizeof(shown), v, 48, 1));
	return -1;
}

static int is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* domain_ok - LDH labels separated by dots, n bytes of v */
static int domain_ok(const char *v, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > 253 || v[0] == '.' || v[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (v[i] == '.') {
			if (label == 0 || v[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_ldh(v[i]) || (label == 0 && v[i] == '-') || ++label > 63)
			return 0;
	}
	return v[n - 1] != '-';
}

static int ipv4_ok(const char *v, size_t n)
{
	char tmp[INET_ADDRSTRLEN];
	struct in_addr a;

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, v, n);
	tmp[n] = 0;
	return inet_pton(AF_INET, tmp, &a) == 1;
}

static int ipv6_ok(const char *v, size_t n)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, v, n);
	tmp[n] = 0;
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

/* all_digits - a dotted-quad-looking name is judged as an address, not as a domain */
static int numeric_name(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || v[i] == '.'))
			return 0;
	return 1;
}

int cfgcheck_domain(const char *v, char *why, size_t len)
{
	if (!domain_ok(v, strlen(v)) || numeric_name(v, strlen(v)))
		return bad(why, len, "\"%s\" is not a domain name (letters, digits, '-' and dots; IDN as xn--...)", v);
	return 0;
}

int cfgcheck_hostname(const char *v, char *why, size_t len)
{
	return *v == 0 ? 0 : cfgcheck_domain(v, why, len);
}

int cfgcheck_ip(const char *v, char *why, size_t len)
{
	if (!ipv4_ok(v, strlen(v)) && !ipv6_ok(v, strlen(v)))
		return bad(why, len, "\"%s\" is not an IP address", v);
	return 0;
}

int cfgcheck_host(const char *v, char *why, size_t len)
{
	size_t n = strlen(v);

	if (ipv4_ok(v, n) || ipv6_ok(v, n) || (domain_ok(v, n) && !numeric_name(v, n)))
		return 0;
	return bad(why, len, "\"%s\" is neither a host name nor an IP address", v);
}

int cfgcheck_ipv4(const char *v, char *why, size_t len)
{
	if (*v && !ipv4_ok(v, strlen(v)))
		return bad(why, len, "\"%s\" is not an IPv4 address (a.b.c.d)", v);
	return 0;
}

int cfgcheck_cidr4(const char *v, char *why, size_t len)
{
	const char *slash = strchr(v, '/');
	char *end;
	long bits;

	if (*v == 0)
		return 0;
	if (slash == NULL || !ipv4_ok(v, (size_t)(slash - v)) || slash[1] < '0' || slash[1] > '9' ||
	    strlen(slash + 1) > 2)
		return bad(why, len, "\"%s\" is not address/prefix (e.g. 192.0.2.10/24)", v);
	bits = strtol(slash + 1, &end, 10);
	if (*end || bits < 0 || bits > 32)
		return bad(why, len, "\"%s\": the prefix length is 0..32", v);
	return 0;
}

int cfgcheck_relay_host(const char *v, char *why, size_t len)
{
	const char *host = v, *port = NULL, *end;
	size_t hl;

	if (*v == 0)
		return 0;
	if (*v == '[') {
		end = strchr(v, ']');
		if (end == NULL)
			return bad(why, len, "\"%s\": missing ']'", v);
		host = v + 1;
		hl = (size_t)(end - host);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return bad(why, len, "\"%s\": expected [host] or [host]:port", v);
		if (hl > 5 && strncmp(host, "ipv6:", 5) == 0) {
			if (!ipv6_ok(host + 5, hl - 5))
				return bad(why, len, "\"%s\": not an IPv6 address after ipv6:", v);
		} else if (!ipv4_ok(host, hl) && !(domain_ok(host, hl) && !numeric_name(host, hl))) {
			return bad(why, len, "\"%s\": not a host name or IPv4 address inside [ ]", v);
		}
	} else {
		end = strchr(v, ':');
		hl = end ? (size_t)(end - v) : strlen(v);
		if (end)
			port = end + 1;
		if (!ipv4_ok(v, hl) && !(domain_ok(v, hl) && !numeric_name(v, hl)))
			return bad(why, len,
			           "\"%s\" is not a mail server: [host]:port, host:port or [host] "
			           "(e.g. [192.0.2.25]:25)",
			           v);
	}
	if (port) {
		char *pe;
		long p;
		if (*port < '0' || *port > '9' || strlen(port) > 5)
			return bad(why, len, "\"%s\": the port is a number 1..65535", v);
		p = strtol(port, &pe, 10);
		if (*pe || p < 1 || p > 65535)
			return bad(why, len, "\"%s\": the port is a number 1..65535", v);
	}
	return 0;
}

/* local_ok - a plain local part: ASCII letters, digits and ._+=- (no leading dot or '-') */
static int local_ok(const char *v, size_t n)
{
	size_t i;

	if (n == 0 || n > 64 || v[0] == '.' || v[0] == '-' || v[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!is_ldh(v[i]) && !strchr("._+=", v[i]))
			return 0;
	return 1;
}

int cfgcheck_address(const char *v, char *why, size_t len)
{
	const char *at = strrchr(v, '@');
	size_t dl;

	if (at == NULL || !local_ok(v, (size_t)(at - v)))
		return bad(why, len, "\"%s\" is not an address (name@domain; letters, digits and ._+=- before @)", v);
	dl = strlen(at + 1);
	if (!domain_ok(at + 1, dl) || numeric_name(at + 1, dl))
		return bad(why, len, "\"%s\": the part after @ is not a domain name", v);
	return 0;
}

int cfgcheck_sender(const char *v, char *why, size_t len)
{
	if (strchr(v, '@'))
		return cfgcheck_address(v, why, len);
	if (!local_ok(v, strlen(v)))
		return bad(why, len, "\"%s\" is neither an address nor a local part (letters, digits, ._+=-)", v);
	return 0;
}

/* one_of - v is one of the words of list (space separated) */
static int one_of(const char *v, const char *list, char *why, size_t len)
{
	size_t n = strlen(v);
	const char *p = list;

	while (*p) {
		size_t w = strcspn(p, " ");
		if (w == n && n > 0 && strncmp(p, v, n) == 0)
			return 0;
		p += w;
		while (*p == ' ')
			p++;
	}
	{
		char shown[40];
		snprintf(why, len, "\"%s\" is not one of: %s", mw_printable(shown, sizeof(shown), v, 30, 1), list);
	}
	return -1;
}

int cfgcheck_tls(const char *v, char *why, size_t len)
{
	return one_of(v, "none may", why, len);
}

int cfgcheck_relay_tls(const char *v, char *why, size_t len)
{
	return one_of(v, "none may encrypt", why, len);
}

int cfgcheck_network(const char *v, char *why, size_t len)
{
	return one_of(v, "dhcp static", why, len);
}
