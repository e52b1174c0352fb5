/*
 * NAME
 *	links.h - find every link in a message, normalise it, judge it by
 *	its registrable domain
 * SYNOPSIS
 *	#include "links/links.h"
 *
 *	link_set *ls = links_new(max_urls, max_bytes);
 *	links_scan_mime(ls, mime_root(parser));	(or links_scan_html/_text)
 *	link_judge j = {cfg, lists, external};
 *	links_classify(ls, &j);
 *	for (i = 0; i < links_count(ls); i++) u = links_get(ls, i); ...
 *	links_free(ls);
 *
 *	links_stage(scan);			(the engine stage: all of the above
 *						 plus reasons in the verdict)
 * DESCRIPTION
 *	Extraction reads text/plain and text/html parts (after transfer
 *	decoding and conversion to UTF-8), and text or HTML attachments.
 *	In HTML it reads href, src, action, formaction, background, poster,
 *	srcset, data, xlink:href, <meta http-equiv=refresh>, CSS url() and
 *	@import (style attributes and <style>), <base href>, character
 *	entities and numeric references, Outlook conditional comments, and
 *	the visible text of each <a>.  In text it finds scheme://... URLs
 *	and bare host names with a known top-level domain
 *	(www.example.com/path, examp1e.com).
 *
 *	Normalisation follows what a browser does: tab and newline removed,
 *	scheme and host lower-cased, back-slashes as slashes, user:pass@
 *	removed (flagged), host percent-decoded, IDN to A-labels with
 *	libidn2 (UTS #46) and back to U-labels for display, IPv4 in
 *	decimal, octal, hex and dotless forms to dotted quad, IPv6 to its
 *	canonical text, and the registrable domain (eTLD+1) from libpsl
 *	with Debian's public suffix list.
 *
 *	A URL is judged by what a click really does.  Redirectors and
 *	trackers that carry their target in the URL (a query parameter, a
 *	path, percent-encoded once or twice, base64 or base64url, and known
 *	shapes: Outlook safe links, Google, Bing "a1", Facebook, LinkedIn,
 *	Proofpoint, Mimecast, AMP and Google Translate proxies) are
 *	unwrapped and the target is recorded as a link of its own
 *	(LINK_F_TARGET, via names the chain), to LINK_MAX_WRAP levels.
 *	Schemes are classed by link_scheme(): only browsing schemes are
 *	judged by host alone; scripts, local files, network shares (UNC,
 *	WebDAV), local handlers (ms-msdt:, search-ms:, ...), Office
 *	documents and unknown applications are facts of their own.
 *
 *	Classification only records facts (LINK_C_ bits); link_class_code()
 *	names the reason code each one becomes.  Lists are read from the
 *	mw_lists snapshot: "link_block", "storage", "shortener", "partner".
 *	A list entry "host/segment" matches URLs on that host (or a
 *	sub-domain) whose first path segment is segment.
 * LIMITS
 *	max_urls distinct links per message ([limits] max_urls) and
 *	max_bytes of text and HTML examined per message ([limits]
 *	max_html_bytes); beyond either, links_limited() says so (reason
 *	link.limits).  LINK_MAX_URL bytes of each URL and LINK_MAX_TEXT of
 *	each anchor text are kept; LINK_MAX_ATTR bytes of one attribute
 *	value are examined (a longer value also counts as a limit).
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_LINKS_H
#define MW_LINKS_H

#include <stddef.h>

#include "mime/mime.h"
#include "policy/lists.h"
#include "policy/policy.h"

#define LINK_DEF_MAX_URLS       500
#define LINK_DEF_MAX_HTML_BYTES (4 * 1024 * 1024)
#define LINK_MAX_URL            4096  /* bytes of one URL kept */
#define LINK_MAX_TEXT           256   /* bytes of one anchor text kept */
#define LINK_MAX_ATTR           65536 /* bytes of one attribute value examined */
#define LINK_MAX_HOST           255
#define LINK_MAX_SCHEME         31
#define LINK_MAX_WRAP           4 /* redirector levels followed */
#define LINK_MAX_TARGETS        8 /* targets taken out of one URL */

/* Where a link was found. */
typedef enum link_src {
	LINK_FROM_TEXT,    /* plain text, or text between HTML tags */
	LINK_FROM_HREF,    /* href, xlink:href */
	LINK_FROM_SRC,     /* src, background, poster, srcset, data */
	LINK_FROM_ACTION,  /* form action, formaction */
	LINK_FROM_REFRESH, /* <meta http-equiv=refresh content=...> */
	LINK_FROM_CSS,     /* url(), @import */
	LINK_FROM_BASE,    /* <base href> */
	LINK_FROM_COUNT
} link_src;

/* Facts about one URL (flags). */
#define LINK_F_IP       0x001   /* host is an IP literal (any form) */
#define LINK_F_IPV6     0x002   /* host is an IPv6 literal */
#define LINK_F_IDN      0x004   /* host had non-ASCII or xn-- labels */
#define LINK_F_USERINFO 0x008   /* user:pass@ before the host */
#define LINK_F_BARE     0x010   /* found without a scheme (www.example.com) */
#define LINK_F_LOADED   0x020   /* loaded by the page (img, css), not clicked */
#define LINK_F_BADHOST  0x040   /* host could not be normalised */
#define LINK_F_CUT      0x080   /* longer than LINK_MAX_URL */
#define LINK_F_SCRIPT   0x100   /* javascript:, vbscript:, data: */
#define LINK_F_NOHOST   0x200   /* no host (script, other scheme) */
#define LINK_F_IPODD    0x400   /* IPv4 written in a non dotted-decimal form */
#define LINK_F_TARGET   0x800   /* the target of a redirector, unwrapped from another link */
#define LINK_F_SHARE    0x1000  /* opens a network file share: UNC, file://host/, smb:, WebDAV */
#define LINK_F_LOCAL    0x2000  /* opens a file on the reader's disk: file:///C:/... */
#define LINK_F_LAUNCH   0x4000  /* starts a local handler: ms-msdt:, search-ms:, its:, ... */
#define LINK_F_OFFICE   0x8000  /* opens a document in an Office application: ms-word:ofe|u|... */
#define LINK_F_APP      0x10000 /* starts an application through a scheme we do not know */
#define LINK_F_WEBDAV   0x20000 /* the share is reached over WebDAV (\\host@SSL\) */
#define LINK_F_DEEP     0x40000 /* a target inside it was not followed: LINK_MAX_WRAP reached */

/* Classes (reason codes): see link_class_code(). */
#define LINK_C_BLOCKED   0x01  /* link.blocked_domain */
#define LINK_C_STORAGE   0x02  /* link.storage */
#define LINK_C_SHORTENER 0x04  /* link.shortener */
#define LINK_C_IP        0x08  /* link.ip_literal */
#define LINK_C_LOOKALIKE 0x10  /* link.lookalike */
#define LINK_C_MISMATCH  0x20  /* link.text_mismatch */
#define LINK_C_SCRIPT    0x40  /* link.script */
#define LINK_C_SCHEME    0x80  /* link.dangerous_scheme */
#define LINK_C_UNC       0x100 /* link.unc */
#define LINK_C_APP       0x200 /* link.app_handler */
#define LINK_C_COUNT     10

/* One extracted link; every string is NUL-terminated and owned by the set. */
typedef struct link_url {
	const char *raw;     /* as found, entities decoded, cut to LINK_MAX_URL */
	const char *url;     /* normalised */
	const char *scheme;  /* lower case; "http" for bare hosts */
	const char *host;    /* lower-case A-labels, "1.2.3.4", "[::1]"; "" if none */
	const char *host_u;  /* host with U-labels (for people); == host if ASCII */
	const char *domain;  /* registrable domain (eTLD+1), the IP for IP hosts, "" if none */
	const char *text;    /* visible text of the <a>, whitespace collapsed; "" if none */
	const char *part;    /* MIME part id, or content tree node path */
	const char *note;    /* why each class was given, "" before links_classify */
	const char *via;     /* redirectors this target was unwrapped from, outermost first; "" */
	const char *targets; /* registrable domains of every target inside it, space separated; "" */
	long parent;         /* index of the link it was unwrapped from, -1 for a link as written */
	int depth;           /* 0 as written, 1..LINK_MAX_WRAP for targets */
	link_src src;
	unsigned flags;   /* LINK_F_ */
	unsigned classes; /* LINK_C_, set by links_classify */
} link_url;

typedef struct link_set link_set;

/* links_new - an empty set; 0 for either limit means the default */
link_set *links_new(size_t max_urls, size_t max_bytes);
void links_free(link_set *ls); /* NULL is safe */

/* links_scan_text, links_scan_html - extract from UTF-8 text of one part (part: id, copied) */
void links_scan_text(link_set *ls, const char *part, const char *s, size_t n);
void links_scan_html(link_set *ls, const char *part, const char *s, size_t n);

/* links_scan_mime - every text, HTML and text/HTML attachment leaf under root */
void links_scan_mime(link_set *ls, const mime_part *root);

size_t links_count(const link_set *ls);
const link_url *links_get(const link_set *ls, size_t i);

/* links_limited - 1 if a limit was crossed; what in detail */
int links_limited(const link_set *ls, char *detail, size_t len);

/* What classification needs; cfg and lists may be NULL. */
typedef struct link_judge {
	const mw_config *cfg;  /* protected domains */
	const mw_lists *lists; /* link_block, storage, shortener, partner */
	int external;          /* the sender is outside the protected domains */
} link_judge;

/* links_classify - set classes and note of every link */
void links_classify(link_set *ls, const link_judge *j);

/* link_class_code - reason code of one LINK_C_ bit; link_class_name - short name ("storage") */
const char *link_class_code(unsigned bit);
const char *link_class_name(unsigned bit);

/* link_src_name - "text", "href", ... */
const char *link_src_name(link_src src);

/* The parts of one normalised URL, in fixed buffers (for tests and tools). */
typedef struct link_parts {
	char scheme[LINK_MAX_SCHEME + 1];
	char host[LINK_MAX_HOST + 1];
	char host_u[4 * LINK_MAX_HOST + 1];
	char domain[LINK_MAX_HOST + 1];
	char userinfo[LINK_MAX_HOST + 1]; /* user part before '@', cut */
	char url[LINK_MAX_URL + 1];
	unsigned flags;
} link_parts;

/*
 * link_parse - normalise one URL.  base (NULL if none) resolves relative
 * references; bare says the text had no scheme (www.example.com).
 * Returns 0 for a link worth recording (with a host, or a script or
 * unknown scheme: LINK_F_NOHOST), -1 for what is no link (mailto:, cid:,
 * #fragment, relative without base).
 */
int link_parse(const char *raw, size_t n, const char *base, int bare, link_parts *p);

/* link_registrable - registrable domain of a lower-case A-label host into out; returns out */
char *link_registrable(const char *host, char *out, size_t len);

/*
 * link_lookalike - 1 if host (lower case, A-labels) imitates target (a
 * registrable domain) without being it or under it; why says how.
 */
int link_lookalike(const char *host, const char *target, char *why, size_t len);

/* link_mixed_script - 1 if a label of host_u mixes Latin, Cyrillic or Greek letters */
int link_mixed_script(const char *host_u);

/*
 * links_format - every link for people (one line each: URL domain=
 * class= part= from= [host=] [text=] [note=]) or as one JSON object
 * {"links": [...], "limited": bool, "limits": "..."} (json != 0)
 */
struct mw_buf;
void links_format(const link_set *ls, int json, struct mw_buf *out);

/* links_stage - the engine stage: extract, classify, add link.* reasons */
struct mw_scan;
int links_stage(struct mw_scan *s);

/*
 * links_add_url - record one URL as written (n bytes; text: anchor or
 * label text, tn bytes, may be NULL) found at part, a MIME part id or a
 * content tree node path; its redirector targets are followed.
 */
void links_add_url(link_set *ls, const char *part, const char *url, size_t n, const char *text, size_t tn);

/*
 * The content tree's entry points: links found in any node (an archive
 * member, a document's relationships, a PDF action, a calendar, a QR
 * code).  path names the node ("2:invoice.zip:doc.docx:word/_rels/
 * document.xml.rels") and becomes the part of every reason.  Both add
 * to the scan's one link set (bounded by [limits] max_urls and
 * max_html_bytes for the whole message), judge what is new and add the
 * reasons at once, so they may be called before or after the links
 * stage, any number of times.
 *
 * links_node_url - one URL as written, with its visible text (or NULL)
 * links_node_text - every link in UTF-8 text (html = 0) or HTML (html = 1)
 */
void links_node_url(struct mw_scan *s, const char *path, const char *url, size_t n, const char *text, size_t tn);
void links_node_text(struct mw_scan *s, const char *path, const char *data, size_t n, int html);

/*
 * links_lookalike - does a domain (a sender's From, Reply-To, envelope or
 * HELO domain; any case, A- or U-labels) imitate one of ours?  0: no (or
 * it is one of ours or a partner's, or under one); 1: it imitates a
 * protected domain ([domains] protected); 2: a partner (list "partner");
 * 3: no particular domain, but a label mixes Latin, Cyrillic or Greek.
 * why (may be NULL) gets "imitated.domain: how" ("nenkin.example: its
 * name as a word of another domain").  The same model as link.lookalike.
 * lists may be NULL.
 */
int links_lookalike(const mw_config *cfg, const mw_lists *lists, const char *domain, char *why, size_t whylen);

/* What a click on a scheme does (link_scheme.c). */
typedef enum link_does {
	LINK_DOES_BROWSE,   /* a web browser fetches it: judged by host */
	LINK_DOES_CONTACT,  /* composes a mail, a call, a message: no link */
	LINK_DOES_INTERNAL, /* points inside the message or the client: no link */
	LINK_DOES_SCRIPT,   /* runs script in the page */
	LINK_DOES_FILE,     /* opens a file or program on the reader's disk */
	LINK_DOES_SHARE,    /* opens a network share (SMB, WebDAV): remote file, NTLM hash */
	LINK_DOES_LAUNCH,   /* starts a local handler that runs code, installs, or loads remote content */
	LINK_DOES_OFFICE,   /* opens a document in an Office application */
	LINK_DOES_APP,      /* starts another application (a scheme we do not know) */
} link_does;

typedef struct link_scheme_info {
	const char *name;
	link_does does;
	const char *what; /* for people: "starts the Support Diagnostic Tool ..." */
} link_scheme_info;

/* link_scheme - what a click on a lower-case scheme does; never NULL */
const link_scheme_info *link_scheme(const char *scheme);
/* link_does_name - "browse", "share", "launch", ... */
const char *link_does_name(link_does d);

#endif
