/* vm_aux.c built with 32-bit cells (see forth/module.mk). */
#include "../vm_aux.c"
