# kernel/core: the portable engine, built as a static library for the
# userspace host and unit tests, and checked freestanding (-nostdinc) so a
# libc or kernel header creeping in fails the build.
CORE_SRCS := $(sort $(wildcard kernel/core/*.c))
CORE_OBJS := $(CORE_SRCS:%.c=$(OBJ)/%.o)
CORE_LIB  := $(BUILD)/libbt_core.a

$(CORE_LIB): $(CORE_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^

# Freestanding check: compile only, into a separate tree.
CORE_FS_OBJS := $(CORE_SRCS:%.c=$(BUILD)/freestanding/%.o)
$(BUILD)/freestanding/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -ffreestanding -nostdinc -fno-builtin-printf \
		-DBT_FREESTANDING -Ikernel/core -O2 -c $< -o $@
$(BUILD)/freestanding/.ok: $(CORE_FS_OBJS)
	@mkdir -p $(@D); touch $@

LIBS  += $(CORE_LIB)
PROGS += $(BUILD)/freestanding/.ok
