# infer/: the LLM inference engine (GGUF reader, tokenizers, chat
# templates, sampling, quantized kernels, llama forward pass).
# Two helpers share this file: keep edits to your own lines.

# --- GGUF reader, tokenizers, chat templates, sampling -----------------------
INFER_SRCS := infer/gguf.c
ifeq ($(HOSTED),yes)
INFER_SRCS += infer/gguf_host.c
# (-lcmocka set here too: mk/rules.mk's TEST adds it after LINKED expanded)
INFER_TESTS := gguf_test
$(foreach t,$(INFER_TESTS),$(eval LDLIBS_$(t) += -lcmocka))
$(eval $(call TEST,gguf_test,test/gguf_test.c,infer mnerr))
endif

# --- kernels, model, threads (infer-math) -------------------------------------

# --- library ------------------------------------------------------------------
$(eval $(call LIBRARY,infer,$(INFER_SRCS)))
