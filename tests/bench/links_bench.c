/*
 * NAME
 *	links_bench - link extraction throughput on large HTML
 * SYNOPSIS
 *	cc -O2 -std=c11 -D_GNU_SOURCE -Isrc -o links_bench tests/bench/links_bench.c \
 *	    build/libmw.a $(pkg-config --libs libclamav inih sqlite3 libpsl libarchive libidn2) -lmagic -lpthread
 *	links_bench [SIZE_MB...]		(default: 1 10 50)
 * DESCRIPTION
 *	Builds in memory a newsletter-like HTML document of each size:
 *	tables, inline styles with url(), images, text with bare URLs and
 *	entities, and links cycling through 300 distinct URLs with anchor
 *	text.  For each size it reports the best of 3 runs of
 *	  extract	the HTML tokenizer and text scanner alone (link_extract_html)
 *	  full		links_scan_html + links_classify (dedupe, normalise, judge)
 *	in MB/s of CPU time (the machine may be shared), and the extractor's time per MB relative to the first size
 *(linear scaling keeps it near 1.0).  A 256 KB warm-up run comes first (the public suffix list is loaded on first use).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "links/link_int.h"
#include "links/links.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t emitted;

/* cpu_ms - this process's CPU time: steadier than wall time on a shared machine */
static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void count_emit(void *arg, link_src src, unsigned flags, const char *u, size_t n, const char *t, size_t tn,
                       const char *base)
{
	(void)arg, (void)src, (void)flags, (void)u, (void)n, (void)t, (void)tn, (void)base;
	emitted++;
}

static void count_limit(void *arg, const char *what)
{
	(void)arg, (void)what;
}

/* make_html - about size bytes of newsletter-like HTML */
static mw_buf make_html(size_t size)
{
	mw_buf b;
	unsigned i = 0;

	buf_init(&b, 0);
	buf_puts(&b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{font:14px sans-serif}"
	             ".h{background:url(https://cdn.shop.example/bg.png)}</style></head><body>\n");
	while (b.len < size) {
		unsigned k = i % 300;
		buf_printf(
		    &b,
		    "<table width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" class=\"row\">"
		    "<tr><td style=\"padding:8px 16px;color:#333;background-image:url('https://img.shop.example/"
		    "t%u.png')\">\n"
		    "<a href=\"https://click.mailer.example/c?u=%u&amp;id=%u&amp;s=news\" "
		    "target=\"_blank\" style=\"color:#06c\">Item %u &ndash; only &yen;%u today</a><br>\n"
		    "<img src=\"https://img.shop.example/p/%u.jpg\" alt=\"item %u\" width=\"120\" height=\"90\">\n"
		    "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
		    "incididunt ut labore et dolore magna aliqua. Details at www.shop.example/items/%u or "
		    "mail support@shop.example. 詳しくはウェブサイトをご覧ください。</p>\n"
		    "</td></tr></table>\n",
		    k, k, i % 7, k, 100 + k, k, k, k);
		i++;
	}
	buf_puts(&b, "</body></html>\n");
	return b;
}

int main(int argc, char **argv)
{
	static const char *const def[] = {"1", "10", "50"};
	const char *const *sizes = argc > 1 ? (const char *const *)argv + 1 : def;
	int nsizes = argc > 1 ? argc - 1 : 3, s, r;
	double base_ms_per_mb = 0;
	link_sink k = {count_emit, count_limit, NULL};
	link_judge j = {NULL, NULL, 1};

	{
		/* warm up: the public suffix list is loaded on first use */
		mw_buf w = make_html(256 * 1024);
		link_set *ls = links_new(100000, w.len + 1);
		links_scan_html(ls, "1", w.p, w.len);
		links_classify(ls, &j);
		links_free(ls);
		buf_free(&w);
	}
	printf("%8s %10s %12s %10s %12s %8s %7s\n", "MB", "extract", "extract MB/s", "full", "full MB/s", "links",
	       "linear");
	for (s = 0; s < nsizes; s++) {
		size_t mb = strtoul(sizes[s], NULL, 10), n;
		mw_buf html = make_html(mb * 1024 * 1024);
		double best_x = 1e18, best_f = 1e18, mbs = (double)html.len / (1024.0 * 1024.0);

		n = 0;
		for (r = 0; r < 3; r++) {
			double t0 = cpu_ms(), t1;
			link_set *ls;

			emitted = 0;
			link_extract_html(&k, html.p, html.len);
			t1 = cpu_ms() - t0;
			best_x = t1 < best_x ? t1 : best_x;

			t0 = cpu_ms();
			ls = links_new(100000, html.len + 1);
			links_scan_html(ls, "1", html.p, html.len);
			links_classify(ls, &j);
			t1 = cpu_ms() - t0;
			best_f = t1 < best_f ? t1 : best_f;
			n = links_count(ls);
			links_free(ls);
		}
		if (s == 0)
			base_ms_per_mb = best_x / mbs;
		printf("%8.1f %8.1fms %12.0f %8.1fms %12.0f %8zu %7.2f\n", mbs, best_x, mbs / (best_x / 1000.0), best_f,
		       mbs / (best_f / 1000.0), n, (best_x / mbs) / base_ms_per_mb);
		buf_free(&html);
	}
	return 0;
}
