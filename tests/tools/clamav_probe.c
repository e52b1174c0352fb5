/*
 * NAME
 *	clamav_probe - what libclamav itself reports about a file: every
 *	object its file-inspection callback visits, and its scan metadata
 * SYNOPSIS
 *	clamav_probe [-d SIGDIR] [-a] [-j] [-b] FILE...
 * DESCRIPTION
 *	Loads the signatures of SIGDIR (default: sigs) into a libclamav
 *	engine with every parser on, the heuristics mailwardend uses, and
 *	CL_SCAN_GENERAL_COLLECT_METADATA, then scans each FILE from memory
 *	(as mailwardend scans parts) and prints, for each object libclamav
 *	visits, one line:
 *
 *	obj DEPTH TYPE size=N name="NAME" parents="A<B<..." attr=0xN head="..."
 *
 *	TYPE is the type string of cl_engine_set_clcb_file_inspection()
 *	(CL_TYPE_PDF, CL_TYPE_ZIP, ...), NAME the object's fmap name (a
 *	member path, or libclamav's own name for what it extracted), head the
 *	first 24 bytes made printable.  Then "result" with the verdict and,
 *	with -j, the metadata JSON (clcb_file_props).  -b prints the
 *	metadata only for the whole scan, not the object lines.  -a scans in
 *	all-match mode (CL_SCAN_GENERAL_ALLMATCHES), so that a signature
 *	match does not end the walk before every object was visited.
 *
 *	This is the tool behind src/extract/README.md: it answers "does
 *	libclamav already give us this?" for a given document, on the
 *	libclamav the machine has.
 * DIAGNOSTICS
 *	Exit 0, 1 when a file cannot be read, 2 on usage or engine errors.
 * SEE ALSO
 *	src/extract/README.md, clamav.h
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <clamav.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int show_objects = 1;
static int show_json;
static int all_matches;

/* put_printable - at most max bytes, non-printables as '.' */
static void put_printable(const char *s, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		putchar(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '.');
	}
}

/* inspect - the file-inspection callback: one line per object */
static cl_error_t inspect(int fd, const char *type, const char **ancestors, size_t parent_size, const char *name,
                          size_t size, const char *buf, uint32_t level, uint32_t attr, void *ctx)
{
	uint32_t i;

	(void)fd;
	(void)parent_size;
	(void)ctx;
	if (!show_objects)
		return CL_CLEAN;
	printf("obj %u %s size=%zu name=\"%s\" parents=\"", level, type ? type : "?", size, name ? name : "");
	for (i = 0; i < level; i++)
		printf("%s%s", i ? "<" : "", ancestors && ancestors[i] ? ancestors[i] : "-");
	printf("\" attr=0x%x head=\"", attr);
	if (buf)
		put_printable(buf, size, 24);
	printf("\"\n");
	return CL_CLEAN;
}

/* props - the metadata JSON at the end of a scan */
static int props(const char *json, int rc, void *cbdata)
{
	(void)rc;
	(void)cbdata;
	if (show_json && json)
		printf("json %s\n", json);
	return CL_CLEAN;
}

/* slurp - a whole file in memory */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n + 1);
		if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return p;
}

int main(int argc, char **argv)
{
	const char *dir = "sigs";
	struct cl_engine *e;
	struct cl_scan_options o;
	unsigned sigs = 0;
	int c, i, rc = 0;

	while ((c = getopt(argc, argv, "d:ajb")) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'a': all_matches = 1; break;
		case 'j': show_json = 1; break;
		case 'b':
			show_json = 1;
			show_objects = 0;
			break;
		default: fprintf(stderr, "usage: clamav_probe [-d SIGDIR] [-a] [-j] [-b] FILE...\n"); return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: clamav_probe [-d SIGDIR] [-a] [-j] [-b] FILE...\n");
		return 2;
	}
	if (cl_init(CL_INIT_DEFAULT) != CL_SUCCESS || (e = cl_engine_new()) == NULL)
		return 2;
	if (cl_load(dir, e, &sigs, CL_DB_STDOPT) != CL_SUCCESS || cl_engine_compile(e) != CL_SUCCESS) {
		fprintf(stderr, "clamav_probe: cannot load %s\n", dir);
		return 2;
	}
	cl_engine_set_clcb_file_inspection(e, inspect);
	cl_engine_set_clcb_file_props(e, props);
	memset(&o, 0, sizeof(o));
	o.general = CL_SCAN_GENERAL_HEURISTICS | CL_SCAN_GENERAL_COLLECT_METADATA;
	if (all_matches)
		o.general |= CL_SCAN_GENERAL_ALLMATCHES;
	o.parse = ~0U;
	o.heuristic = CL_SCAN_HEURISTIC_BROKEN | CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_MACROS |
	              CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
	printf("libclamav %s, %u signatures\n", cl_retver(), sigs);
	for (i = optind; i < argc; i++) {
		const char *virname = NULL;
		unsigned long scanned = 0;
		size_t len = 0;
		char *data = slurp(argv[i], &len);
		cl_fmap_t *map;
		cl_error_t r;

		printf("file %s\n", argv[i]);
		if (data == NULL) {
			printf("result unreadable\n");
			rc = 1;
			continue;
		}
		map = cl_fmap_open_memory(data, len);
		r = map ? cl_scanmap_callback(map, argv[i], &virname, &scanned, e, &o, NULL) : CL_EMEM;
		if (map)
			cl_fmap_close(map);
		printf("result %s%s%s\n", r == CL_VIRUS ? "FOUND " : "", r == CL_VIRUS && virname ? virname : "",
		       r == CL_VIRUS ? "" : cl_strerror(r));
		free(data);
	}
	cl_engine_free(e);
	return rc;
}
