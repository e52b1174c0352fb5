/*
 * NAME
 *	cmocka_analyzer.h - cmocka's failed assertions end the test, for
 *	clang's static analyzer
 * SYNOPSIS
 *	cc -include tests/unit/cmocka_analyzer.h ...	(make analyze does it)
 * DESCRIPTION
 *	A failed cmocka assertion longjmps out of the test, but cmocka 1.1
 *	declares its checks as ordinary functions, so scan-build follows the
 *	failure path on and reports what the test never does (a record used
 *	after assert_int_equal(pw_make(...), 0) saw it fail).  Under
 *	__clang_analyzer__ only, this header redefines the assertions the
 *	unit tests use as "check, else _fail()" with _fail() and _skip()
 *	declared noreturn; each argument is evaluated once, as in cmocka.
 *	Compilers see nothing: the tests run with cmocka's own macros.
 * SEE ALSO
 *	Makefile (analyze), cmocka.h
 * LICENSE
 *	GPL-2.0-or-later
 */
#ifndef MW_CMOCKA_ANALYZER_H
#define MW_CMOCKA_ANALYZER_H
#ifdef __clang_analyzer__
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

void _fail(const char *const file, const int line) __attribute__((noreturn));
void _skip(const char *const file, const int line) __attribute__((noreturn));

#define MW_AN_CHECK(c) ((c) ? (void)0 : _fail(__FILE__, __LINE__))

#undef assert_true
#define assert_true(c) MW_AN_CHECK(c)
#undef assert_false
#define assert_false(c) MW_AN_CHECK(!(c))
#undef assert_non_null
#define assert_non_null(p) MW_AN_CHECK((p) != NULL)
#undef assert_null
#define assert_null(p) MW_AN_CHECK((p) == NULL)
#undef assert_int_equal
#define assert_int_equal(a, b)                                                                                         \
	do {                                                                                                           \
		LargestIntegralType mw_an_a = (LargestIntegralType)(a), mw_an_b = (LargestIntegralType)(b);            \
		MW_AN_CHECK(mw_an_a == mw_an_b);                                                                       \
	} while (0)
#undef assert_ptr_equal
#define assert_ptr_equal(a, b) MW_AN_CHECK((const void *)(a) == (const void *)(b))
#undef assert_ptr_not_equal
#define assert_ptr_not_equal(a, b) MW_AN_CHECK((const void *)(a) != (const void *)(b))
#undef assert_string_equal
#define assert_string_equal(a, b)                                                                                      \
	do {                                                                                                           \
		const char *mw_an_a = (a), *mw_an_b = (b);                                                             \
		MW_AN_CHECK(mw_an_a != NULL && mw_an_b != NULL && strcmp(mw_an_a, mw_an_b) == 0);                      \
	} while (0)
#undef assert_string_not_equal
#define assert_string_not_equal(a, b)                                                                                  \
	do {                                                                                                           \
		const char *mw_an_a = (a), *mw_an_b = (b);                                                             \
		MW_AN_CHECK(mw_an_a != NULL && mw_an_b != NULL && strcmp(mw_an_a, mw_an_b) != 0);                      \
	} while (0)
#undef assert_memory_equal
#define assert_memory_equal(a, b, n) MW_AN_CHECK(memcmp((a), (b), (n)) == 0)

#endif /* __clang_analyzer__ */
#endif
