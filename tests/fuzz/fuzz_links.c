/*
 * NAME
 *	fuzz_links - libFuzzer target: link extraction, normalisation and
 *	classification
 * DESCRIPTION
 *	The input is read as HTML and as text with small limits (so the
 *	limit paths run too), every link is classified against a protected
 *	domain and small lists, and the result is formatted both ways.  The
 *	input is also normalised as one URL, with and without a base, added
 *	as one URL as written (so the redirector unwrapping and its depth
 *	bound run on arbitrary bytes), and judged as a sender domain with
 *	links_lookalike().
 *	Checks: a normalised host of a good link is lower-case ASCII, every
 *	string is within its documented bound, a target's depth is within
 *	LINK_MAX_WRAP and its parent comes before it.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "links/links.h"
#include "policy/lists.h"
#include "policy/policy.h"
#include "util/util.h"

#include <stdint.h>
#include <string.h>

static mw_config *cfg;
static mw_lists *lists;

static void setup(void)
{
	static const char *const ov[] = {"domains.protected=example.com, example.co.jp"};
	char err[256];

	if (cfg)
		return;
	if (config_load(NULL, ov, 1, &cfg, err, sizeof(err)) < 0)
		__builtin_trap();
	lists = lists_new();
	lists_add(lists, "storage", "gigafile.nu");
	lists_add(lists, "storage", "icloud.com/iclouddrive");
	lists_add(lists, "shortener", "bit.ly");
	lists_add(lists, "link_block", "blocked.example");
	lists_add(lists, "partner", "partner.example");
	lists_add(lists, "partner", "hello-world.example");
}

static void check(const link_set *ls)
{
	size_t i;
	const char *h;

	for (i = 0; i < links_count(ls); i++) {
		const link_url *u = links_get(ls, i);
		if (strlen(u->url) > LINK_MAX_URL || strlen(u->text) > LINK_MAX_TEXT || strlen(u->host) > LINK_MAX_HOST)
			__builtin_trap();
		if (u->depth < 0 || u->depth > LINK_MAX_WRAP || (u->depth > 0) != (u->parent >= 0) ||
		    u->parent >= (long)i || ((u->flags & LINK_F_TARGET) != 0) != (u->depth > 0))
			__builtin_trap();
		if (u->flags & (LINK_F_BADHOST | LINK_F_NOHOST))
			continue;
		for (h = u->host; *h; h++)
			if ((unsigned char)*h >= 0x80 || (*h >= 'A' && *h <= 'Z'))
				__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	link_set *ls;
	link_judge j;
	link_parts *p = x_malloc(sizeof(*p));
	mw_buf out;

	setup();
	j.cfg = cfg;
	j.lists = lists;
	j.external = size & 1;
	ls = links_new(size % 7 == 0 ? 10 : 0, size % 5 == 0 ? 200 : 0);
	links_scan_html(ls, "1", s, size);
	links_scan_text(ls, "2", s, size);
	links_classify(ls, &j);
	check(ls);
	buf_init(&out, 0);
	links_format(ls, 0, &out);
	links_format(ls, 1, &out);
	buf_free(&out);
	links_free(ls);
	if (size <= LINK_MAX_URL * 2) {
		char why[300], *dom = x_strndup(s, size);
		link_parse(s, size, NULL, 0, p);
		link_parse(s, size, "https://base.example/d/x", 0, p);
		link_parse(s, size, NULL, 1, p);
		ls = links_new(0, 0);
		links_add_url(ls, "2:a.zip:b.docx:word/_rels/document.xml.rels", s, size, s, size < 40 ? size : 40);
		links_classify(ls, &j);
		check(ls);
		links_free(ls);
		if (links_lookalike(cfg, lists, dom, why, sizeof(why)) < 0 || strlen(why) >= sizeof(why))
			__builtin_trap();
		x_free(dom);
	}
	x_free(p);
	return 0;
}
