/* dspace.c built with 32-bit cells (see forth/module.mk). */
#include "../dspace.c"
