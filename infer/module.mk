# infer/: the LLM inference engine (GGUF reader, tokenizers, chat
# templates, sampling, quantized kernels, llama forward pass).
# Two helpers share this file: keep edits to your own lines.

# --- GGUF reader, tokenizers, chat templates, sampling -----------------------
INFER_SRCS := infer/gguf.c infer/tokenizer.c infer/pretok.c infer/utf8.c infer/detok.c infer/chat.c infer/sample.c
ifeq ($(HOSTED),yes)
INFER_SRCS += infer/gguf_host.c
# (-lcmocka set here too: mk/rules.mk's TEST adds it after LINKED expanded)
INFER_TESTS := gguf_test tokenizer_test chat_test sample_test
$(foreach t,$(INFER_TESTS),$(eval LDLIBS_$(t) += -lcmocka))
$(eval $(call TEST,gguf_test,test/gguf_test.c,infer mnerr))
$(eval $(call TEST,tokenizer_test,test/tokenizer_test.c,infer mnerr))
$(eval $(call TEST,chat_test,test/chat_test.c,infer mnerr))
$(eval $(call TEST,sample_test,test/sample_test.c,infer mnerr))
$(eval $(call PROGRAM,pretok-dump,test/pretok_dump.c,infer))
endif
TEST_SCRIPTS += test/gguf_fuzz.sh test/tokenizer_fuzz.sh test/pretok_regex.sh
FUZZ_SCRIPTS += test/gguf_fuzz.sh test/tokenizer_fuzz.sh

# --- kernels, model, threads (infer-math) -------------------------------------
INFER_SRCS += infer/quant.c infer/dot_select.c infer/matmul.c infer/par.c infer/llama.c infer/pack.c infer/attn.c infer/act.c
ifneq ($(filter x86_64,$(shell uname -m)),)
ifneq ($(TARGET),aarch64)
INFER_SRCS += infer/dot_avx2.c infer/dot_avx512.c infer/gemm_avx512.c infer/gemm_q6_k_avx512.c infer/attn_avx512.c infer/act_avx512.c infer/gemm_avx2.c infer/gemm_k_avx2.c
CFLAGS_infer/dot_avx2.c := -mavx2 -mfma -mf16c
CFLAGS_infer/dot_avx512.c := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512vnni
CFLAGS_infer/gemm_avx512.c := $(CFLAGS_infer/dot_avx512.c)
CFLAGS_infer/gemm_q6_k_avx512.c := $(CFLAGS_infer/dot_avx512.c)
CFLAGS_infer/attn_avx512.c := $(CFLAGS_infer/dot_avx512.c)
CFLAGS_infer/act_avx512.c := $(CFLAGS_infer/dot_avx512.c)
CFLAGS_infer/gemm_avx2.c := $(CFLAGS_infer/dot_avx2.c)
CFLAGS_infer/gemm_k_avx2.c := $(CFLAGS_infer/dot_avx2.c)
endif
endif
# AArch64 (the aarch64 platform, or a hosted build on an ARM host): NEON
INFER_NEON := $(if $(filter aarch64,$(TARGET)),yes,$(if $(filter yesaarch64,$(HOSTED)$(shell uname -m)),yes,))
ifeq ($(INFER_NEON),yes)
INFER_SRCS += infer/dot_neon.c infer/dot_neon_dp.c infer/dot_neon_mm.c
CFLAGS_infer/dot_neon_dp.c := -march=armv8.2-a+dotprod
CFLAGS_infer/dot_neon_mm.c := -march=armv8.2-a+dotprod+i8mm
endif
ifeq ($(HOSTED),yes)
INFER_SRCS += infer/par_pthread.c infer/llama_host.c
LDLIBS_quant_test += -lcmocka
$(eval $(call TEST,quant_test,test/quant_test.c,infer mnerr))
LDLIBS_llama_test += -lcmocka
$(eval $(call TEST,llama_test,test/llama_test.c,infer mnerr))
ifneq ($(TARGET),hosted-asan)
# static: the tool's resident memory is then the model plus little else
LDLIBS_mneme-infer += -static
endif
$(eval $(call PROGRAM,mneme-infer,infer/mneme_infer.c infer/infer_tok.c,infer mnerr))
$(eval $(call BENCH,infer_kernels,bench/infer_kernels.c,infer mnerr))
$(eval $(call PROGRAM,mneme-quantize,infer/mneme_quantize.c,infer mnerr))
$(eval $(call BENCH,gen-model,bench/gen_model.c,infer mnerr))
endif
TEST_SCRIPTS += test/infer_tool.sh test/llama_fuzz.sh test/quantize_tool.sh
FUZZ_SCRIPTS += test/llama_fuzz.sh
BENCH_SCRIPTS += bench/infer.sh bench/infer_pairs.sh

# --- library ------------------------------------------------------------------
$(eval $(call LIBRARY,infer,$(INFER_SRCS)))
