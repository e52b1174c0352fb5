/*
 * NAME
 *	extract_bench - the cost of each extractor beside libclamav's scan
 *	of the same object, in one run
 * SYNOPSIS
 *	make build/bench/extract_bench && build/bench/extract_bench [SIGS_DIR]
 * DESCRIPTION
 *	Builds typical inputs in memory (a 1 MB business text, the same with
 *	a 1 MB uuencoded file, a 1 MB HTML newsletter, a PDF of 2000
 *	compressed objects with links, an 8-megapixel JPEG photo and a
 *	2-megapixel PNG without QR codes), then times the extractor that
 *	would run on each and av_scan_mem() (libclamav with SIGS_DIR,
 *	default sigs) on the same bytes: best of three each, in this
 *	thread's CPU time (the machine is shared).  Prints per
 *	input: size, extractor ms and MB/s, ClamAV ms, and their ratio, the
 *	figure that matters on a shared machine (both run in the same
 *	process at the same moment).
 * LICENSE
 *	GPL-2.0-or-later
 */
#include <stdio.h> /* before jpeglib.h */

#include <jpeglib.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "av/av.h"
#include "extract/extract.h"
#include "policy/policy.h"
#include "util/util.h"

/* cpu_ms - this thread's CPU time: the machine is shared, wall time is not ours */
static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int nop_obj(void *c, const char *n, const char *t, const void *d, size_t l)
{
	(void)c, (void)n, (void)t, (void)d, (void)l;
	return 0;
}
static int nop_link(void *c, const char *u, const char *x)
{
	(void)c, (void)u, (void)x;
	return 0;
}
static int nop_find(void *c, const char *a, const char *b)
{
	(void)c, (void)a, (void)b;
	return 0;
}

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)rng;
}

static void text(mw_buf *b, size_t n)
{
	static const char *const w[] = {"invoice",
	                                "meeting",
	                                "schedule",
	                                "please",
	                                "find",
	                                "attached",
	                                "regards",
	                                "お世話になっております。",
	                                "よろしくお願いいたします。",
	                                "https://www.example.com/a",
	                                "\n",
	                                "2026-06-01",
	                                "Tanaka",
	                                "report"};
	while (b->len < n) {
		buf_puts(b, w[rnd() % MW_ARRAY_LEN(w)]);
		buf_putc(b, ' ');
	}
}

static void uu(mw_buf *b, size_t n)
{
	size_t i, j;

	buf_puts(b, "begin 644 data.bin\n");
	for (i = 0; i < n; i += 45) {
		buf_putc(b, ' ' + 45);
		for (j = 0; j < 60; j++)
			buf_putc(b, '!' + (int)(rnd() % 63));
		buf_putc(b, '\n');
	}
	buf_puts(b, "`\nend\n");
}

static void html(mw_buf *b, size_t n)
{
	buf_puts(b, "<!doctype html><html><head><style>td{color:#333}</style></head><body><table>");
	while (b->len < n)
		buf_printf(b,
		           "<tr><td class=\"c%u\"><a href=\"https://news.example/item/%u?utm_source=mail\">"
		           "<img src=\"https://cdn.example/i/%u.png\" alt=\"item\" width=120></a></td>"
		           "<td>Sale %u%% off this week only</td></tr>\n",
		           rnd() % 9, rnd(), rnd(), rnd() % 90);
	buf_puts(b, "</table><script>function t(){document.title='x';}</script></body></html>");
}

static void pdf(mw_buf *b, int nobj)
{
	char body[4096], z[8192];
	int i;

	buf_puts(b, "%PDF-1.7\n");
	for (i = 1; i <= nobj; i++) {
		uLongf zl = sizeof(z);
		mw_buf t;
		buf_init(&t, 0);
		text(&t, 2000);
		snprintf(body, sizeof(body), "BT /F1 12 Tf (%.1500s) Tj ET", t.p);
		buf_free(&t);
		compress((Bytef *)z, &zl, (const Bytef *)body, strlen(body));
		if (i % 40 == 0)
			buf_printf(
			    b,
			    "%d 0 obj << /Type /Annot /Subtype /Link /A << /S /URI /URI (https://doc.example/%d) >> >>"
			    "\nendobj\n",
			    i, i);
		else
			buf_printf(b, "%d 0 obj << /Length %lu /Filter /FlateDecode >>\nstream\n", i,
			           (unsigned long)zl);
		if (i % 40 != 0) {
			buf_append(b, z, zl);
			buf_puts(b, "\nendstream\nendobj\n");
		}
	}
	buf_puts(b, "trailer << /Root 1 0 R >>\n%%EOF\n");
}

static void jpeg(mw_buf *b, unsigned w, unsigned h)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	unsigned char *mem = NULL, *row = x_malloc(w * 3);
	unsigned long len = 0;
	unsigned x;

	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &mem, &len);
	c.image_width = w;
	c.image_height = h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 85, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < h) {
		for (x = 0; x < w * 3; x++)
			row[x] = (unsigned char)((x / 3 + c.next_scanline) / 8 + rnd() % 32);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	buf_append(b, mem, len);
	free(mem);
	x_free(row);
}

static void png(mw_buf *b, unsigned w, unsigned h)
{
	png_image img;
	unsigned char *px = x_malloc((size_t)w * h);
	size_t i, n = 0;
	void *mem;

	for (i = 0; i < (size_t)w * h; i++)
		px[i] = (unsigned char)(i % w / 4 + rnd() % 16);
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = w;
	img.height = h;
	img.format = PNG_FORMAT_GRAY;
	png_image_write_get_memory_size(img, n, 0, px, 0, NULL);
	mem = x_malloc(n);
	png_image_write_to_memory(&img, mem, &n, 0, px, 0, NULL);
	buf_append(b, mem, n);
	x_free(mem);
	x_free(px);
}

int main(int argc, char **argv)
{
	const char *sigs = argc > 1 ? argv[1] : "sigs";
	char err[512], ov[600];
	const char *ovs[1] = {ov};
	mw_config *cfg;
	av_engine *av;
	ex_limits lim;
	mw_emit e = {nop_obj, nop_link, nop_find, NULL};
	struct {
		const char *name;
		ex_fn fn;
		mw_buf b;
	} in[6];
	size_t i;
	int k;

	snprintf(ov, sizeof(ov), "paths.signatures=%s", sigs);
	if (config_load(NULL, ovs, 1, &cfg, err, sizeof(err)) < 0 || av_global_init(err, sizeof(err)) < 0 ||
	    (av = av_engine_load(sigs, cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "extract_bench: %s\n", err);
		return 2;
	}
	config_extract_limits(cfg, &lim);
	for (i = 0; i < MW_ARRAY_LEN(in); i++)
		buf_init(&in[i].b, 0);
	in[0].name = "text 1 MB (legacy)";
	in[0].fn = ex_legacy_text;
	text(&in[0].b, 1 << 20);
	in[1].name = "text + uuencode 1 MB";
	in[1].fn = ex_legacy_text;
	text(&in[1].b, 64 << 10);
	buf_putc(&in[1].b, '\n');
	uu(&in[1].b, 1 << 20);
	in[2].name = "HTML newsletter 1 MB";
	in[2].fn = ex_html;
	html(&in[2].b, 1 << 20);
	in[3].name = "PDF 2000 objects";
	in[3].fn = ex_pdf;
	pdf(&in[3].b, 2000);
	in[4].name = "JPEG photo 8 Mpx";
	in[4].fn = ex_qr;
	jpeg(&in[4].b, 3264, 2448);
	in[5].name = "PNG 2 Mpx";
	in[5].fn = ex_qr;
	png(&in[5].b, 1920, 1080);
	printf("%-22s %10s %10s %9s %10s %8s\n", "input", "bytes", "extract ms", "MB/s", "clamav ms", "ratio");
	for (i = 0; i < MW_ARRAY_LEN(in); i++) {
		double best_ex = 1e18, best_av = 1e18, t0;
		av_result r;
		for (k = 0; k < 3; k++) {
			t0 = cpu_ms();
			in[i].fn(in[i].b.p, in[i].b.len, &lim, &e);
			if (cpu_ms() - t0 < best_ex)
				best_ex = cpu_ms() - t0;
			t0 = cpu_ms();
			av_scan_mem(av, in[i].b.p, in[i].b.len, "bench", &r);
			if (cpu_ms() - t0 < best_av)
				best_av = cpu_ms() - t0;
		}
		printf("%-22s %10zu %10.2f %9.1f %10.2f %8.3f\n", in[i].name, in[i].b.len, best_ex,
		       in[i].b.len / 1048576.0 / (best_ex / 1000.0), best_av, best_ex / best_av);
		buf_free(&in[i].b);
	}
	av_engine_release(av);
	config_unref(cfg);
	return 0;
}
