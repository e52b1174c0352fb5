/*
 * NAME
 *	fingerprint.c - campaign skeletons and fingerprints
 * SYNOPSIS
 *	See sender.h: sender_skeleton(), sender_fingerprint().
 * DESCRIPTION
 *	A targeted campaign sends one template to many people: the
 *	recipient's name, the date and a reference number change, the
 *	encoding may change (ISO-2022-JP in one mail, UTF-8 in the next), the
 *	sender address changes after each block.  The skeleton keeps what
 *	does not change.  It works on decoded UTF-8 (the MIME parser has
 *	already converted every charset), in four steps over a bounded
 *	array of code points:
 *	  1. fold full-width ASCII (U+FF01..U+FF5E) and U+3000 to ASCII,
 *	     lower-case ASCII;
 *	  2. drop ASCII tokens holding '@' or starting with a URL scheme or
 *	     "www.", and every digit;
 *	  3. drop the name before a Japanese honorific (様, さま, さん, 殿,
 *	     先生, 御中, 各位, くん: up to SKEL_NAME_MAX characters of kanji,
 *	     kana or Latin letters and the spaces between them, stopping at
 *	     a line end or punctuation) and the honorific itself; drop the
 *	     words after "dear" up to a comma or line end;
 *	  4. drop white space and punctuation.
 *	The fingerprint is SHA-256 over a version tag, the subject skeleton,
 *	the body skeleton (first text/plain part, else first text/html part
 *	with tags removed) and the sorted skeletons of attachment names.
 *	Attachment contents get their own SHA-256, stored beside it.
 * LIMITS
 *	SKEL_TEXT_MAX bytes of body text are examined; SKEL_NAME_MAX code
 *	points are removed before an honorific.
 * LICENSE
 *	GPL-2.0-or-later
 */
#include "sender/sender.h"
#include "util/hash.h"
#include "util/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SKEL_TEXT_MAX (64 * 1024)
#define SKEL_NAME_MAX 16
#define SKEL_OUT_MAX  (64 * 1024)

typedef struct cpbuf {
	uint32_t *v;
	size_t n, cap;
} cpbuf;

static void cp_push(cpbuf *b, uint32_t c)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->v = x_realloc(b->v, b->cap * sizeof(*b->v));
	}
	b->v[b->n++] = c;
}

/* utf8_next - decode one code point; invalid bytes yield U+FFFD and advance one */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	size_t need, k;
	uint32_t cp;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	need = (c >= 0xc2 && c <= 0xdf) ? 1 : (c >= 0xe0 && c <= 0xef) ? 2 : (c >= 0xf0 && c <= 0xf4) ? 3 : 0;
	if (need == 0 || *i + need >= len) {
		(*i)++;
		return 0xfffd;
	}
	cp = c & (need == 1 ? 0x1f : need == 2 ? 0x0f : 0x07);
	for (k = 1; k <= need; k++) {
		unsigned char cc = s[*i + k];
		if ((cc & 0xc0) != 0x80) {
			(*i)++;
			return 0xfffd;
		}
		cp = (cp << 6) | (cc & 0x3f);
	}
	*i += need + 1;
	return cp;
}

static void utf8_put(mw_buf *out, uint32_t cp)
{
	char b[4];

	if (cp < 0x80) {
		buf_putc(out, (int)cp);
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, b, 3);
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, b, 4);
	}
}

static int is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x3000 || c == 0xa0;
}

/* is_name_char - characters a personal name is written in */
static int is_name_char(uint32_t c)
{
	return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x3041 && c <= 0x30ff) ||
	       (c >= 'a' && c <= 'z') || c == 0x30fc || c == 0x3005;
}

/* is_punct - ASCII and CJK punctuation and symbols: dropped from the skeleton */
static int is_punct(uint32_t c)
{
	if (c < 0x80)
		return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
	return (c >= 0x2000 && c <= 0x206f) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xff00 && c <= 0xff0f) ||
	       (c >= 0xff1a && c <= 0xff20) || (c >= 0xff3b && c <= 0xff40) || (c >= 0xff5b && c <= 0xff65) ||
	       c == 0xfffd || (c >= 0x2500 && c <= 0x27bf) || c == 0x30fb;
}

static const uint32_t honorifics[][3] = {
    {0x69d8, 0, 0},      /* 様 */
    {0x3055, 0x307e, 0}, /* さま */
    {0x3055, 0x3093, 0}, /* さん */
    {0x6bbf, 0, 0},      /* 殿 */
    {0x5148, 0x751f, 0}, /* 先生 */
    {0x5fa1, 0x4e2d, 0}, /* 御中 */
    {0x5404, 0x4f4d, 0}, /* 各位 */
    {0x304f, 0x3093, 0}, /* くん */
};

/* honorific_at - length of an honorific starting at v[i], or 0 */
static size_t honorific_at(const cpbuf *b, size_t i)
{
	size_t h, k;

	for (h = 0; h < MW_ARRAY_LEN(honorifics); h++) {
		for (k = 0; k < 3 && honorifics[h][k]; k++)
			if (i + k >= b->n || b->v[i + k] != honorifics[h][k])
				break;
		if (k == 3 || honorifics[h][k] == 0)
			return k;
	}
	return 0;
}

static int ascii_token_char(uint32_t c)
{
	return c > ' ' && c < 0x7f;
}

/* drop_tokens - step 2: addresses, URLs and digits */
static void drop_tokens(const cpbuf *in, cpbuf *out)
{
	size_t i = 0;

	while (i < in->n) {
		if (ascii_token_char(in->v[i]) && (i == 0 || !ascii_token_char(in->v[i - 1]))) {
			size_t j = i, k;
			int drop = 0;
			while (j < in->n && ascii_token_char(in->v[j]))
				j++;
			for (k = i; k < j; k++)
				if (in->v[k] == '@')
					drop = 1;
			if (j - i >= 4) {
				static const char *const pfx[] = {"http:", "https:", "ftp:", "www."};
				size_t p;
				for (p = 0; p < MW_ARRAY_LEN(pfx); p++) {
					size_t L = strlen(pfx[p]);
					for (k = 0; k < L && i + k < j; k++)
						if (in->v[i + k] != (uint32_t)pfx[p][k])
							break;
					if (k == L)
						drop = 1;
				}
			}
			if (drop) {
				i = j;
				continue;
			}
		}
		if (!(in->v[i] >= '0' && in->v[i] <= '9'))
			cp_push(out, in->v[i]);
		i++;
	}
}

/* drop_names - step 3: names before honorifics, after "dear" */
static void drop_names(const cpbuf *in, cpbuf *out)
{
	size_t i = 0;

	while (i < in->n) {
		size_t h = honorific_at(in, i);
		if (h) {
			size_t popped = 0;
			while (out->n > 0 && popped < SKEL_NAME_MAX &&
			       (is_name_char(out->v[out->n - 1]) ||
			        (out->v[out->n - 1] == ' ' && out->n > 1 && is_name_char(out->v[out->n - 2])))) {
				out->n--;
				popped++;
			}
			i += h;
			continue;
		}
		if (in->v[i] == 'd' && i + 4 < in->n && in->v[i + 1] == 'e' && in->v[i + 2] == 'a' &&
		    in->v[i + 3] == 'r' && in->v[i + 4] == ' ' && (i == 0 || !is_name_char(in->v[i - 1]))) {
			i += 5;
			while (i < in->n && in->v[i] != ',' && in->v[i] != '\n' && in->v[i] != 0x3001)
				i++;
			continue;
		}
		cp_push(out, in->v[i]);
		i++;
	}
}

void sender_skeleton(const char *utf8, size_t len, mw_buf *out)
{
	const unsigned char *s = (const unsigned char *)utf8;
	cpbuf a = {0}, b = {0}, c = {0};
	size_t i = 0;

	if (len > SKEL_TEXT_MAX)
		len = SKEL_TEXT_MAX;
	/* step 1: fold */
	while (i < len) {
		uint32_t cp = utf8_next(s, len, &i);
		if (cp >= 0xff01 && cp <= 0xff5e)
			cp -= 0xfee0;
		if (cp >= 'A' && cp <= 'Z')
			cp += 32;
		if (is_space(cp))
			cp = cp == '\n' ? '\n' : ' ';
		if (cp == '\r')
			continue;
		cp_push(&a, cp);
	}
	drop_tokens(&a, &b);
	drop_names(&b, &c);
	/* step 4 */
	for (i = 0; i < c.n; i++)
		if (!is_space(c.v[i]) && !is_punct(c.v[i]))
			utf8_put(out, c.v[i]);
	x_free(a.v);
	x_free(b.v);
	x_free(c.v);
}

/* strip_tags - crude HTML to text for skeletons: drop <...> and entities */
static char *strip_tags(const char *html, size_t len, size_t *outlen)
{
	char *o = x_malloc(len + 1);
	size_t i, n = 0;
	int in_tag = 0;

	for (i = 0; i < len; i++) {
		char ch = html[i];
		if (ch == '<')
			in_tag = 1;
		else if (ch == '>')
			in_tag = 0;
		else if (!in_tag)
			o[n++] = ch;
	}
	o[n] = 0;
	*outlen = n;
	return o;
}

typedef struct walk {
	const mime_part *text;
	const mime_part *html;
	char *names[64];
	size_t nnames;
} walk;

/* utf8_chars - code points in a valid UTF-8 string */
static size_t utf8_chars(const char *p)
{
	size_t n = 0;

	for (; *p; p++)
		if (((unsigned char)*p & 0xc0) != 0x80)
			n++;
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_parts(const mime_part *p, walk *w, size_t depth)
{
	size_t i, n;

	if (depth > 64)
		return;
	if (mime_part_is_leaf(p)) {
		const char *type = mime_part_type(p), *fn = mime_part_filename(p);
		const char *disp = mime_part_disposition(p);
		int attachment = fn != NULL || (disp && strcmp(disp, "attachment") == 0);
		if (!attachment && w->text == NULL && strcmp(type, "text/plain") == 0)
			w->text = p;
		else if (!attachment && w->html == NULL && strcmp(type, "text/html") == 0)
			w->html = p;
		else if (fn && w->nnames < MW_ARRAY_LEN(w->names)) {
			mw_buf sk;
			buf_init(&sk, 1024);
			sender_skeleton(fn, strlen(fn), &sk);
			w->names[w->nnames++] = x_strdup(sk.p);
			buf_free(&sk);
		}
		return;
	}
	n = mime_part_nchildren(p);
	for (i = 0; i < n; i++)
		walk_parts(mime_part_child(p, i), w, depth + 1);
}

void sender_fingerprint(const mw_scan *s, char out[65])
{
	const mime_part *root;
	mw_buf subj, body;
	mw_sha256 h;
	walk w;
	size_t i, textlen = 0;
	char *text = NULL;

	out[0] = 0;
	if (s->mime == NULL || (root = mime_root(s->mime)) == NULL)
		return;
	memset(&w, 0, sizeof(w));
	walk_parts(root, &w, 0);
	buf_init(&subj, SKEL_OUT_MAX);
	buf_init(&body, SKEL_OUT_MAX);
	if (mime_part_header(root, "subject", 0))
		sender_skeleton(mime_part_header(root, "subject", 0), strlen(mime_part_header(root, "subject", 0)),
		                &subj);
	if (w.text) {
		text = mime_part_text(w.text, SKEL_TEXT_MAX, &textlen);
	} else if (w.html) {
		size_t hl;
		char *html = mime_part_text(w.html, SKEL_TEXT_MAX, &hl);
		if (html) {
			text = strip_tags(html, hl, &textlen);
			x_free(html);
		}
	}
	if (text)
		sender_skeleton(text, textlen, &body);
	x_free(text);
	qsort(w.names, w.nnames, sizeof(w.names[0]), cmp_str);
	if (utf8_chars(subj.p) + utf8_chars(body.p) >= s->env->cfg->campaign_min_text) {
		mw_sha256_init(&h);
		mw_sha256_update(&h, "mailwarden-fp-1\n", 16);
		mw_sha256_update(&h, subj.p, subj.len);
		mw_sha256_update(&h, "\n", 1);
		mw_sha256_update(&h, body.p, body.len);
		for (i = 0; i < w.nnames; i++) {
			mw_sha256_update(&h, "\n", 1);
			mw_sha256_update(&h, w.names[i], strlen(w.names[i]));
		}
		mw_sha256_hex(&h, out);
	}
	for (i = 0; i < w.nnames; i++)
		x_free(w.names[i]);
	buf_free(&subj);
	buf_free(&body);
}
