# schema/: the resource schema library (libbl_schema.a), the schema file
# generator, the schema unit tests and the YAML fuzzer.
#
# Users of the library link:   $(SCHEMA_LIB) $(SCHEMA_LDLIBS)
# and compile with:            $(SCHEMA_CFLAGS)   (jansson, libyaml)
SCHEMA_SRCS    := $(sort $(wildcard schema/*.c))
SCHEMA_OBJS    := $(SCHEMA_SRCS:%.c=$(OBJ)/%.o)
SCHEMA_LIB     := $(BUILD)/libbl_schema.a
SCHEMA_CFLAGS  := $(call pc,--cflags jansson yaml-0.1)
SCHEMA_LDLIBS  := $(call pc,--libs jansson yaml-0.1)
SCHEMA_GEN     := $(BUILD)/bollard-schema-gen

$(SCHEMA_OBJS): EXTRA_CFLAGS += $(SCHEMA_CFLAGS)

$(SCHEMA_LIB): $(SCHEMA_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^

$(OBJ)/schema/gen/bollard_schema_gen.o: EXTRA_CFLAGS += $(SCHEMA_CFLAGS)
$(SCHEMA_GEN): $(OBJ)/schema/gen/bollard_schema_gen.o $(SCHEMA_LIB)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(SCHEMA_LDLIBS)

# Unit tests: every tests/unit/test_schema*.c is one cmocka binary.
SCHEMA_TEST_SRCS := $(sort $(wildcard tests/unit/test_schema*.c))
SCHEMA_TESTS     := $(SCHEMA_TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
SCHEMA_TEST_OBJS := $(SCHEMA_TEST_SRCS:%.c=$(OBJ)/%.o)

$(SCHEMA_TEST_OBJS): EXTRA_CFLAGS += $(SCHEMA_CFLAGS) $(call pc,--cflags cmocka)
$(SCHEMA_TESTS): $(BUILD)/tests/unit/%: $(OBJ)/tests/unit/%.o $(SCHEMA_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(SCHEMA_LDLIBS) $(call pc,--libs cmocka)

# bl_time.c alone against clock_gettime() (no library, no schema).
$(OBJ)/tests/unit/test_bl_time.o: EXTRA_CFLAGS += $(call pc,--cflags cmocka)
$(BUILD)/tests/unit/test_bl_time: $(OBJ)/tests/unit/test_bl_time.o $(OBJ)/schema/bl_time.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(call pc,--libs cmocka)

# `make schemas`: rewrite the generated JSON Schemas and docs/schema.md
# (a unit test fails while the committed copies differ from the tables).
schemas: $(SCHEMA_GEN)
	@mkdir -p schema/kinds
	$(SCHEMA_GEN) --json-dir schema/kinds
	$(SCHEMA_GEN) --markdown docs/schema.md

# libFuzzer over YAML -> objects. libyaml and jansson are the system
# (uninstrumented) builds; every schema source is instrumented. bl_err.c and
# bl_time.c are left out: the fuzzer never needs error strings or a clock.
FUZZ_CC        ?= clang-14
SCHEMA_FUZZ    := $(BUILD)/fuzz/fuzz_yaml
SCHEMA_FUZZ_SRCS := tests/fuzz/fuzz_yaml.c $(filter-out schema/bl_err.c schema/bl_time.c,$(SCHEMA_SRCS))
$(SCHEMA_FUZZ): $(SCHEMA_FUZZ_SRCS) $(wildcard schema/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined $(CSTD) -D_GNU_SOURCE \
		-Ischema -Ikernel/core $(SCHEMA_CFLAGS) $(SCHEMA_FUZZ_SRCS) -o $@ $(SCHEMA_LDLIBS)

fuzz: $(SCHEMA_FUZZ)

LIBS       += $(SCHEMA_LIB)
PROGS      += $(SCHEMA_GEN)
UNIT_TESTS += $(SCHEMA_TESTS) $(BUILD)/tests/unit/test_bl_time
FUZZERS    += $(SCHEMA_FUZZ)

.PHONY: schemas
