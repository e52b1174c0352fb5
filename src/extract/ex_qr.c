/*
 * NAME
 *	ex_qr.c - QR codes in PNG, JPEG and GIF images: the links they hold
 * SYNOPSIS
 *	#include "extract/extract.h"
 *
 *	rc = ex_qr(image, len, &lim, &out);
 * DESCRIPTION
 *	The image is decoded to 8-bit greyscale (zbar's Y800) with small,
 *	well-kept libraries: libpng's simplified API (transparency composed
 *	over white), libjpeg-turbo (decoded straight to JCS_GRAYSCALE), giflib
 *	(the first frame, palette mapped to luma, the transparent colour as
 *	white).  libzbar then looks for QR codes only (other symbologies are
 *	off: they carry product numbers, not links).  A picture larger than
 *	EX_QR_SCAN_PIXELS is shrunk first (JPEG: decoded at 1/2, 1/4 or 1/8
 *	scale by libjpeg; others: averaged blocks): zbar's time grows with the
 *	pixels, and a code meant to be scanned from a screen survives it.  A
 *	mostly dark picture without a code is looked at once more inverted
 *	(light modules on dark).
 *
 *	A QR code whose text is or holds a URL gives the link (context "QR
 *	code") and the finding image.qr_link: a link in a picture is out of
 *	reach of every text rule and of the reader's hover, which is why
 *	phishing mail puts it there.  Other QR text (payment codes, Wi-Fi
 *	settings, contact cards) is not reported.
 * LIMITS
 *	The image size is read from its header before any pixel is decoded;
 *	above max_pixels (limits.image_max_pixels) nothing is decoded and
 *	content.limits is reported.  One greyscale buffer of width x height
 *	bytes plus the decoder's own state (libjpeg: a few rows; giflib: one
 *	line) is the memory used.  GIF: the first image only.  libjpeg and
 *	giflib errors on broken data end the decode: then nothing is found.
 * DIAGNOSTICS
 *	Findings: image.qr_link, content.limits.  -1 when zbar cannot
 *	create its scanner (memory).
 * SEE ALSO
 *	zbar(3), libpng(3), libjpeg, giflib
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "extract/ex_int.h"

#include <stdio.h> /* before jpeglib.h, which uses FILE */

#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>
#include <strings.h>
#include <zbar.h>

#define EX_QR_SCAN_PIXELS (2 * 1024 * 1024) /* pixels zbar looks at: larger pictures are shrunk first */

typedef struct grey {
	unsigned char *px;
	unsigned w, h;
} grey;

enum { DEC_OK, DEC_BAD, DEC_TOO_BIG };

/* too_big - w x h over the pixel bound (or zero) */
static int too_big(const ex_out *o, unsigned long w, unsigned long h)
{
	return w == 0 || h == 0 || w > o->lim.max_pixels || h > o->lim.max_pixels / w;
}

/* ---- PNG ---- */

static int dec_png(const ex_out *o, const void *in, size_t len, grey *g)
{
	png_image img;
	png_color white = {255, 255, 255};

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&img, in, len))
		return DEC_BAD;
	if (too_big(o, img.width, img.height)) {
		g->w = img.width;
		g->h = img.height;
		png_image_free(&img);
		return DEC_TOO_BIG;
	}
	img.format = PNG_FORMAT_GRAY;
	g->w = img.width;
	g->h = img.height;
	g->px = x_malloc(PNG_IMAGE_SIZE(img));
	if (!png_image_finish_read(&img, &white, g->px, 0, NULL)) {
		png_image_free(&img);
		x_free(g->px);
		g->px = NULL;
		return DEC_BAD;
	}
	return DEC_OK;
}

/* ---- JPEG ---- */

typedef struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
} jerr;

static void jpeg_fail(j_common_ptr c)
{
	longjmp(((jerr *)c->err)->jb, 1);
}

static void jpeg_quiet(j_common_ptr c)
{
	(void)c; /* corrupt-data warnings are not ours to print */
}

static int dec_jpeg(const ex_out *o, const void *in, size_t len, grey *g)
{
	struct jpeg_decompress_struct ci;
	jerr err;
	unsigned char *volatile px = NULL;
	volatile int rc = DEC_BAD;

	memset(&ci, 0, sizeof(ci));
	ci.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = jpeg_fail;
	err.pub.output_message = jpeg_quiet;
	if (setjmp(err.jb)) {
		jpeg_destroy_decompress(&ci);
		x_free(px);
		g->px = NULL;
		return rc == DEC_TOO_BIG ? DEC_TOO_BIG : DEC_BAD;
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, in, (unsigned long)len);
	jpeg_read_header(&ci, TRUE);
	g->w = ci.image_width;
	g->h = ci.image_height;
	if (too_big(o, ci.image_width, ci.image_height)) {
		jpeg_destroy_decompress(&ci);
		return DEC_TOO_BIG;
	}
	ci.out_color_space = JCS_GRAYSCALE;
	/* decode a large photo at 1/2, 1/4 or 1/8 scale: cheap, and enough for a QR code */
	ci.scale_num = 1;
	ci.scale_denom = 1;
	while (ci.scale_denom < 8 &&
	       (unsigned long)(ci.image_width / (ci.scale_denom * 2)) * (ci.image_height / (ci.scale_denom * 2)) >=
	           EX_QR_SCAN_PIXELS)
		ci.scale_denom *= 2;
	jpeg_start_decompress(&ci);
	if (ci.output_components != 1 || too_big(o, ci.output_width, ci.output_height)) {
		jpeg_destroy_decompress(&ci);
		return DEC_BAD;
	}
	g->w = ci.output_width;
	g->h = ci.output_height;
	px = x_malloc((size_t)g->w * g->h);
	memset(px, 255, (size_t)g->w * g->h); /* rows a truncated file never fills stay white */
	while (ci.output_scanline < ci.output_height) {
		JSAMPROW row = px + (size_t)ci.output_scanline * g->w;
		if (jpeg_read_scanlines(&ci, &row, 1) != 1)
			break;
	}
	jpeg_finish_decompress(&ci);
	jpeg_destroy_decompress(&ci);
	g->px = px;
	return DEC_OK;
}

/* ---- GIF ---- */

typedef struct gif_src {
	const unsigned char *p;
	size_t len, pos;
} gif_src;

static int gif_read(GifFileType *gf, GifByteType *buf, int n)
{
	gif_src *s = gf->UserData;
	size_t k = n > 0 ? (size_t)n : 0;

	if (k > s->len - s->pos)
		k = s->len - s->pos;
	memcpy(buf, s->p + s->pos, k);
	s->pos += k;
	return (int)k;
}

static int dec_gif(const ex_out *o, const void *in, size_t len, grey *g)
{
	static const int ioff[] = {0, 4, 2, 1}, istep[] = {8, 8, 4, 2};
	gif_src src = {in, len, 0};
	GifFileType *gf;
	GifRecordType rt;
	int err, transparent = -1, rc = DEC_BAD;
	unsigned char lut[256];
	GifPixelType *line = NULL;

	if ((gf = DGifOpen(&src, gif_read, &err)) == NULL)
		return DEC_BAD;
	while (DGifGetRecordType(gf, &rt) == GIF_OK) {
		if (rt == EXTENSION_RECORD_TYPE) {
			GifByteType *ext;
			int code;
			if (DGifGetExtension(gf, &code, &ext) != GIF_OK)
				break;
			if (code == GRAPHICS_EXT_FUNC_CODE && ext && ext[0] >= 4 && (ext[1] & 1))
				transparent = ext[4];
			while (ext != NULL)
				if (DGifGetExtensionNext(gf, &ext) != GIF_OK)
					goto done;
			continue;
		}
		if (rt != IMAGE_DESC_RECORD_TYPE)
			break;
		if (DGifGetImageDesc(gf) != GIF_OK)
			break;
		ColorMapObject *cm = gf->Image.ColorMap ? gf->Image.ColorMap : gf->SColorMap;
		unsigned w = (unsigned)gf->Image.Width, h = (unsigned)gf->Image.Height, y;
		int pass, i;
		g->w = w;
		g->h = h;
		if (too_big(o, w, h)) {
			rc = DEC_TOO_BIG;
			break;
		}
		if (cm == NULL || cm->Colors == NULL)
			break;
		for (i = 0; i < 256; i++) {
			const GifColorType *c = &cm->Colors[i < cm->ColorCount ? i : 0];
			lut[i] = i == transparent
			             ? 255
			             : (unsigned char)((299 * c->Red + 587 * c->Green + 114 * c->Blue) / 1000);
		}
		g->px = x_malloc((size_t)w * h);
		memset(g->px, 255, (size_t)w * h); /* rows a truncated file never fills stay white */
		line = x_malloc(w);
		for (pass = 0; pass < (gf->Image.Interlace ? 4 : 1); pass++) {
			unsigned start = gf->Image.Interlace ? (unsigned)ioff[pass] : 0;
			unsigned step = gf->Image.Interlace ? (unsigned)istep[pass] : 1;
			for (y = start; y < h; y += step) {
				unsigned x;
				if (DGifGetLine(gf, line, (int)w) != GIF_OK)
					goto first_done;
				for (x = 0; x < w; x++)
					g->px[(size_t)y * w + x] = lut[line[x]];
			}
		}
	first_done:
		rc = DEC_OK; /* what decoded before an error is kept */
		break;
	}
done:
	x_free(line);
	DGifCloseFile(gf, &err);
	if (rc != DEC_OK) {
		x_free(g->px);
		g->px = NULL;
	}
	return rc;
}

/*
 * shrink - average f x f blocks until the picture has at most
 * EX_QR_SCAN_PIXELS pixels: zbar's time grows with the pixel count, and a
 * QR code meant to be scanned from a screen survives it.
 */
static void shrink(grey *g)
{
	unsigned f = 1, w, h, x, y, i, j;
	unsigned char *px;

	while ((unsigned long)(g->w / f) * (g->h / f) > EX_QR_SCAN_PIXELS)
		f++;
	if (f == 1)
		return;
	w = g->w / f;
	h = g->h / f;
	px = x_malloc((size_t)w * h);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			unsigned long sum = 0;
			for (j = 0; j < f; j++)
				for (i = 0; i < f; i++)
					sum += g->px[(size_t)(y * f + j) * g->w + x * f + i];
			px[(size_t)y * w + x] = (unsigned char)(sum / ((unsigned long)f * f));
		}
	x_free(g->px);
	g->px = px;
	g->w = w;
	g->h = h;
}

/* dark - the picture is mostly dark (an inverted code is light on dark) */
static int dark(const grey *g)
{
	unsigned long long sum = 0;
	size_t i, n = (size_t)g->w * g->h;

	for (i = 0; i < n; i += 7)
		sum += g->px[i];
	return n > 0 && sum / ((n + 6) / 7) < 128;
}

/* qr_text - one decoded QR text: a link and a finding when it holds a URL */
static void qr_text(ex_out *o, const char *d, size_t n)
{
	size_t before = o->nlinks;

	while (n > 0 && (*d == ' ' || *d == '\r' || *d == '\n' || *d == '\t'))
		d++, n--;
	/* URLTO:/URL: prefixes of some generators */
	if (n > 6 && strncasecmp(d, "URLTO:", 6) == 0)
		d += 6, n -= 6;
	else if (n > 4 && strncasecmp(d, "URL:", 4) == 0)
		d += 4, n -= 4;
	ex_scan_urls(o, d, n, "QR code");
	if (o->nlinks > before)
		ex_finding(o, "image.qr_link", "QR code in an image links to %.*s", (int)(n < 150 ? n : 150), d);
}

/* ex_qr - see the file header */
int ex_qr(const void *in, size_t len, const ex_limits *lim, const mw_emit *emit)
{
	const unsigned char *p = in;
	zbar_image_scanner_t *sc;
	zbar_image_t *im;
	const zbar_symbol_t *sym;
	grey g = {NULL, 0, 0};
	const char *kind;
	ex_out o;
	int rc, pass, found = 0;

	ex_out_init(&o, emit, lim, "image");
	if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
		kind = "PNG";
		rc = dec_png(&o, in, len, &g);
	} else if (len >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0) {
		kind = "JPEG";
		rc = dec_jpeg(&o, in, len, &g);
	} else if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) {
		kind = "GIF";
		rc = dec_gif(&o, in, len, &g);
	} else {
		return 0;
	}
	if (rc == DEC_TOO_BIG) {
		ex_limit(&o, EX_LIM_OTHER,
		         "%s image of %ux%u pixels not read for QR codes (limits.image_max_pixels %zu)", kind, g.w, g.h,
		         o.lim.max_pixels);
		x_free(g.px);
		return ex_out_rc(&o);
	}
	if (rc != DEC_OK || g.px == NULL)
		return 0;
	shrink(&g);
	if ((sc = zbar_image_scanner_create()) == NULL) {
		x_free(g.px);
		return -1;
	}
	zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	/*
	 * A mostly dark picture gets a second pass over our own inverted
	 * copy (a light-on-dark code): zbar's ZBAR_CFG_TEST_INVERTED writes
	 * past the end of its copy when width x height is not a multiple of 8
	 * (valgrind, zbar 0.23.92), so it stays off.
	 */
	for (pass = 0; pass < (dark(&g) ? 2 : 1) && found == 0 && !o.stop; pass++) {
		if (pass == 1) {
			size_t k, np = (size_t)g.w * g.h;
			for (k = 0; k < np; k++)
				g.px[k] = (unsigned char)(255 - g.px[k]);
		}
		if ((im = zbar_image_create()) == NULL)
			break;
		zbar_image_set_format(im, zbar_fourcc('Y', '8', '0', '0'));
		zbar_image_set_size(im, g.w, g.h);
		zbar_image_set_data(im, g.px, (unsigned long)g.w * g.h, NULL);
		if (zbar_scan_image(sc, im) > 0)
			for (sym = zbar_image_first_symbol(im); sym && !o.stop; sym = zbar_symbol_next(sym), found++)
				qr_text(&o, zbar_symbol_get_data(sym), zbar_symbol_get_data_length(sym));
		zbar_image_destroy(im);
	}
	zbar_image_scanner_destroy(sc);
	x_free(g.px);
	return ex_out_rc(&o);
}
