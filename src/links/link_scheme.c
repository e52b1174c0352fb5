/*
 * NAME
 *	link_scheme.c - what a click on a URL scheme does: browse, write,
 *	run script, open a file or a share, or start a local handler
 * SYNOPSIS
 *	#include "links/link_int.h"
 *
 *	const link_scheme_info *i = link_scheme("search-ms");
 *	if (i->does == LINK_DOES_LAUNCH) ... i->what
 * DESCRIPTION
 *	A link is judged by what it makes the reader's computer do, not by
 *	a list of bad words.  Only a few schemes browse: a web browser
 *	fetches them and the host is what matters (http, https, ftp, ws,
 *	webcal).  A few more only compose a message or a call (mailto, tel,
 *	sip, ...) or point inside the message (cid, mid, about), and are no
 *	links at all.  Everything else is judged by what it does:
 *
 *	script	 runs script in the page (javascript:, vbscript:, data:
 *		 documents);
 *	file	 opens a file or a program on the reader's own disk
 *		 (file:///C:/..., file://localhost/);
 *	share	 opens a file on a network share: Windows connects with SMB
 *		 or WebDAV and sends the user's NTLM hash to the host
 *		 (\\host\share, file://host/, smb:, \\host@SSL\);
 *	launch	 starts a local handler known to run code, install software,
 *		 or load remote content outside the browser's protections
 *		 (ms-msdt: Follina, search-ms: and search: remote searches,
 *		 ms-officecmd:, ms-appinstaller:, its:/ms-its:/mk: help
 *		 files, hcp:, mhtml:, jar:, res:, shell:, itms-services:, and
 *		 every other ms-* and vnd.ms-* handler);
 *	office	 opens a document in an Office application, from anywhere
 *		 the URL says (ms-word:ofe|u|https://..., onenote:);
 *	app	 starts another application through a scheme this table
 *		 does not know (x-..., web+..., zoommtg:, steam:, ...): what
 *		 it does depends on what is installed.
 *
 *	The table is ordered by name; prefixes ("ms-", "vnd.ms-", "x-",
 *	"web+") classify the schemes a vendor may add later.
 * SEE ALSO
 *	link_url.c (parsing per class), link_judge.c (reason codes);
 *	Microsoft "Office URI Schemes"; CVE-2022-30190 (ms-msdt),
 *	CVE-2024-21413 (file:// monikers), Microsoft's December 2023 note
 *	disabling ms-appinstaller; docs/threats.md.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "links/link_int.h"

#include <string.h>
#include <strings.h>

/* Sorted by name (strcmp) for the binary search. */
static const link_scheme_info table[] = {
    {"about", LINK_DOES_INTERNAL, "a page of the mail client itself"},
    {"afp", LINK_DOES_SHARE, "opens an Apple file share"},
    {"blob", LINK_DOES_INTERNAL, "data made by a script in the page"},
    {"callto", LINK_DOES_CONTACT, "places a call"},
    {"cid", LINK_DOES_INTERNAL, "a part of this message"},
    {"cifs", LINK_DOES_SHARE, "opens a Windows file share (SMB)"},
    {"data", LINK_DOES_SCRIPT, "a document carried in the URL itself"},
    {"dav", LINK_DOES_SHARE, "opens a WebDAV share"},
    {"davs", LINK_DOES_SHARE, "opens a WebDAV share over TLS"},
    {"facetime", LINK_DOES_CONTACT, "places a call"},
    {"facetime-audio", LINK_DOES_CONTACT, "places a call"},
    {"fax", LINK_DOES_CONTACT, "sends a fax"},
    {"file", LINK_DOES_FILE, "opens a file or program on the reader's disk"},
    {"ftp", LINK_DOES_BROWSE, "an FTP download"},
    {"hcp", LINK_DOES_LAUNCH, "starts the Windows Help and Support Center"},
    {"im", LINK_DOES_CONTACT, "starts a chat"},
    {"itms-services", LINK_DOES_LAUNCH, "installs an iOS app from a manifest on the web"},
    {"its", LINK_DOES_LAUNCH, "opens a compiled HTML help file (CHM), which can run script"},
    {"jar", LINK_DOES_LAUNCH, "opens a member of a Java archive"},
    {"javascript", LINK_DOES_SCRIPT, "runs script"},
    {"ldap", LINK_DOES_LAUNCH, "starts a directory lookup on a remote host"},
    {"ldaps", LINK_DOES_LAUNCH, "starts a directory lookup on a remote host"},
    {"livescript", LINK_DOES_SCRIPT, "runs script"},
    {"mailto", LINK_DOES_CONTACT, "writes a mail"},
    {"mhtml", LINK_DOES_LAUNCH, "opens a web archive in the local machine zone"},
    {"mid", LINK_DOES_INTERNAL, "another message"},
    {"mk", LINK_DOES_LAUNCH, "opens a compiled HTML help file (CHM) through a moniker"},
    {"mms", LINK_DOES_CONTACT, "sends a message"},
    {"ms-appinstaller", LINK_DOES_LAUNCH, "installs an MSIX package from the web (App Installer)"},
    {"ms-cxh", LINK_DOES_LAUNCH, "starts the Windows account setup host"},
    {"ms-cxh-full", LINK_DOES_LAUNCH, "starts the Windows account setup host"},
    {"ms-excel", LINK_DOES_OFFICE, "opens a workbook in Excel"},
    {"ms-its", LINK_DOES_LAUNCH, "opens a compiled HTML help file (CHM), which can run script"},
    {"ms-msdt", LINK_DOES_LAUNCH, "starts the Support Diagnostic Tool (Follina, CVE-2022-30190)"},
    {"ms-officecmd", LINK_DOES_LAUNCH, "passes a command to the Office launcher"},
    {"ms-powerpoint", LINK_DOES_OFFICE, "opens a presentation in PowerPoint"},
    {"ms-settings", LINK_DOES_LAUNCH, "opens Windows Settings"},
    {"ms-word", LINK_DOES_OFFICE, "opens a document in Word"},
    {"nfs", LINK_DOES_SHARE, "opens an NFS share"},
    {"onenote", LINK_DOES_OFFICE, "opens a notebook in OneNote"},
    {"res", LINK_DOES_LAUNCH, "loads a resource out of a program file"},
    {"rlogin", LINK_DOES_LAUNCH, "opens a terminal session to a remote host"},
    {"search", LINK_DOES_LAUNCH, "opens Windows Search, which lists files from a remote share"},
    {"search-ms", LINK_DOES_LAUNCH, "opens Windows Search, which lists files from a remote share"},
    {"shell", LINK_DOES_LAUNCH, "opens a Windows shell folder or program"},
    {"sip", LINK_DOES_CONTACT, "places a call"},
    {"sips", LINK_DOES_CONTACT, "places a call"},
    {"skype", LINK_DOES_CONTACT, "places a call"},
    {"smb", LINK_DOES_SHARE, "opens a Windows file share (SMB)"},
    {"sms", LINK_DOES_CONTACT, "sends a message"},
    {"smsto", LINK_DOES_CONTACT, "sends a message"},
    {"tel", LINK_DOES_CONTACT, "places a call"},
    {"telnet", LINK_DOES_LAUNCH, "opens a terminal session to a remote host"},
    {"tn3270", LINK_DOES_LAUNCH, "opens a terminal session to a remote host"},
    {"vbscript", LINK_DOES_SCRIPT, "runs script"},
    {"webcal", LINK_DOES_BROWSE, "a calendar subscription"},
    {"webcals", LINK_DOES_BROWSE, "a calendar subscription"},
    {"ws", LINK_DOES_BROWSE, "a web socket"},
    {"wss", LINK_DOES_BROWSE, "a web socket"},
    {"xmpp", LINK_DOES_CONTACT, "starts a chat"},
};

/* Schemes a vendor adds later, by prefix; the first match wins. */
static const link_scheme_info prefixes[] = {
    {"ms-", LINK_DOES_LAUNCH, "starts a Microsoft protocol handler"},
    {"vnd.ms-", LINK_DOES_LAUNCH, "starts a Microsoft protocol handler"},
    {"microsoft-", LINK_DOES_LAUNCH, "starts a Microsoft application with the URL"},
    {"x-", LINK_DOES_APP, "starts a custom application handler"},
    {"web+", LINK_DOES_APP, "goes through a handler a web site registered"},
};

static const link_scheme_info web = {"http", LINK_DOES_BROWSE, "a web page"};
static const link_scheme_info unknown = {"", LINK_DOES_APP, "starts the application registered for this scheme"};

/* Office applications besides Word, Excel, PowerPoint (same command syntax). */
static const char *const office_apps[] = {"ms-access",    "ms-infopath", "ms-project",
                                          "ms-publisher", "ms-spd",      "ms-visio"};
static const link_scheme_info office = {"", LINK_DOES_OFFICE, "opens a document in an Office application"};

/* link_scheme - what a click on this (lower-case) scheme does; never NULL */
const link_scheme_info *link_scheme(const char *scheme)
{
	size_t lo = 0, hi = sizeof(table) / sizeof(table[0]), i;

	if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)
		return &web;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(scheme, table[mid].name);
		if (c == 0)
			return &table[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (i = 0; i < sizeof(office_apps) / sizeof(office_apps[0]); i++)
		if (strcmp(scheme, office_apps[i]) == 0)
			return &office;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(scheme, prefixes[i].name, strlen(prefixes[i].name)) == 0)
			return &prefixes[i];
	return &unknown;
}

/* link_scheme_sorted - 1 if the table is in strcmp order (for the unit test) */
int link_scheme_sorted(void)
{
	size_t i;

	for (i = 1; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i - 1].name, table[i].name) >= 0)
			return 0;
	return 1;
}

/* link_does_name - "browse", "share", ... for notes and tools */
const char *link_does_name(link_does d)
{
	static const char *const names[] = {"browse", "contact", "internal", "script", "file",
	                                    "share",  "launch",  "office",   "app"};

	return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : "?";
}

/* link_text_scheme - 1 if a scheme written in plain text without "//" is worth reading as a link */
int link_text_scheme(const char *scheme, const char *rest, size_t n)
{
	/* English words that are also scheme names: only with a path-like argument */
	static const char *const words[] = {"file", "its", "jar", "mk", "res", "search", "shell", "hcp", "mhtml"};
	const link_scheme_info *i = link_scheme(scheme);
	size_t k, m = n < 12 ? n : 12;

	if (i == &unknown || (i->does != LINK_DOES_LAUNCH && i->does != LINK_DOES_OFFICE && i->does != LINK_DOES_FILE &&
	                      i->does != LINK_DOES_SHARE))
		return 0;
	if (n == 0 || (unsigned char)rest[0] <= ' ')
		return 0;
	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strcmp(scheme, words[k]) == 0)
			break;
	if (k == sizeof(words) / sizeof(words[0]))
		return 1;
	for (k = 0; k < m; k++)
		if (rest[k] == '/' || rest[k] == '\\' || rest[k] == '=' || rest[k] == '@' || rest[k] == '|')
			return 1;
	return 0;
}
