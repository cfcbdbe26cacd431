# infer/: the LLM inference engine (GGUF reader, tokenizers, chat
# templates, sampling, quantized kernels, llama forward pass).
# Two helpers share this file: keep edits to your own lines.

# --- GGUF reader, tokenizers, chat templates, sampling -----------------------
INFER_SRCS := infer/gguf.c
ifeq ($(HOSTED),yes)
INFER_SRCS += infer/gguf_host.c
endif

# --- kernels, model, threads (infer-math) -------------------------------------

# --- library ------------------------------------------------------------------
$(eval $(call LIBRARY,infer,$(INFER_SRCS)))
