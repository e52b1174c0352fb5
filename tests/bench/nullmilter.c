/*
 * NAME
 *	nullmilter.c - a libmilter filter that does nothing: the floor of any milter
 * SYNOPSIS
 *	nullmilter unix:/path/to.sock
 * DESCRIPTION
 *	Receives exactly the steps mailwardend receives (connect, HELO,
 *	MAIL, RCPT, every header, end of header, every body chunk, end of
 *	message), negotiated the same way (no replies to connect, HELO,
 *	header, end-of-header and body steps; no unknown commands, no DATA
 *	step), keeps nothing and accepts every message at end of message,
 *	adding one header as mailwardend adds its verdict headers.  Whatever
 *	mailwardend costs beyond this process is the cost of its own work;
 *	`make bench-peers` runs it beside the peers as the floor.
 *
 *	Threads, socket and protocol are libmilter's own, as for any milter.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <string.h>

#define NULL_NOREPLY (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
#define NULL_NOSEND  (SMFIP_NOUNKNOWN | SMFIP_NODATA)

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
                             unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = (f1 & NULL_NOREPLY) | (f1 & NULL_NOSEND);
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat nm_noreply(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_NOREPLY;
}

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	return nm_noreply(ctx);
}

static sfsistat nm_helo(SMFICTX *ctx, char *helo)
{
	(void)helo;
	return nm_noreply(ctx);
}

static sfsistat nm_envelope(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)name;
	(void)value;
	return nm_noreply(ctx);
}

static sfsistat nm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)chunk;
	(void)len;
	return nm_noreply(ctx);
}

static sfsistat nm_eom(SMFICTX *ctx)
{
	smfi_addheader(ctx, "X-Null-Milter", "accept");
	return SMFIS_ACCEPT;
}

static sfsistat nm_continue(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static struct smfiDesc nm_filter = {
    .xxfi_name = "nullmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS,
    .xxfi_connect = nm_connect,
    .xxfi_helo = nm_helo,
    .xxfi_envfrom = nm_envelope,
    .xxfi_envrcpt = nm_envelope,
    .xxfi_header = nm_header,
    .xxfi_eoh = nm_noreply,
    .xxfi_body = nm_body,
    .xxfi_eom = nm_eom,
    .xxfi_abort = nm_continue,
    .xxfi_close = nm_continue,
    .xxfi_negotiate = nm_negotiate,
};

int main(int argc, char **argv)
{
	if (argc != 2 || strncmp(argv[1], "unix:", 5) != 0) {
		fprintf(stderr, "usage: nullmilter unix:/path/to.sock\n");
		return 2;
	}
	if (smfi_register(nm_filter) == MI_FAILURE || smfi_setconn(argv[1]) == MI_FAILURE ||
	    smfi_setbacklog(128) == MI_FAILURE || smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
