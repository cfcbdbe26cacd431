# lib/: libraries that need no kernel (error text, postcard, COBS).
$(eval $(call LIBRARY,mnerr,lib/err.c))
