/* forth_test.c run against a VM built with 32-bit cells. */
#include "forth_test.c"
