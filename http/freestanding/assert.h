/* assert.h for http-parser in the freestanding kernel builds: checks are
 * off (NDEBUG semantics), as in a release build of the library. */
#ifndef MNEME_HTTP_ASSERT_H
#define MNEME_HTTP_ASSERT_H
#define assert(e) ((void)0)
#endif
