/* ctype.h for http-parser in the freestanding kernel builds (it includes
 * the header but uses its own character-class macros). */
#ifndef MNEME_HTTP_CTYPE_H
#define MNEME_HTTP_CTYPE_H
#endif
