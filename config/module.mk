# config/: target configurations (TOML), checked and baked at build time by
# tools/mkconfig.py (docs/config.md). For each config/<name>.toml:
#   $(O)/config/<name>.bin          the postcard bytes (hosted --config FILE)
#   $(O)/lib/libconfig_<name>.a     mn_config_baked[] / mn_config_baked_len
# A platform links config_<name> and decodes it with mn_config_decode
# (library mnconfig).
CONFIG_NAMES := $(basename $(notdir $(wildcard config/*.toml)))

$(O)/gen/config/%.c $(O)/config/%.bin: config/%.toml tools/mkconfig.py
	@mkdir -p $(O)/gen/config $(O)/config
	python3 tools/mkconfig.py $< --c $(O)/gen/config/$*.c --bin $(O)/config/$*.bin

$(foreach n,$(CONFIG_NAMES),$(eval $(call LIBRARY,config_$(n),$(O)/gen/config/$(n).c)))
ALL_OUTPUTS += $(foreach n,$(CONFIG_NAMES),$(O)/config/$(n).bin)
