# reconcilers/: the reconciler framework (plan, executors) and the DRBD and
# Pacemaker reconcilers, as a static library, plus the golden-test driver
# build/bollard-plan-test and the test_plan* unit tests.
#
# Users link:  $(REC_LIB) $(SCHEMA_LIB) $(REC_LDLIBS)
REC_SRCS := reconcilers/plan.c reconcilers/exec.c reconcilers/reconcilers.c \
            reconcilers/drbd.c reconcilers/drbd_conf.c reconcilers/drbd_live.c \
            reconcilers/pacemaker.c reconcilers/pacemaker_plan.c \
            reconcilers/pcmk_xml.c reconcilers/target.c
REC_OBJS := $(REC_SRCS:%.c=$(OBJ)/%.o)
REC_LIB  := $(BUILD)/libbl_reconcilers.a
REC_CFLAGS := $(call pc,--cflags jansson libxml-2.0)
REC_LDLIBS := $(call pc,--libs jansson libxml-2.0 yaml-0.1)

$(REC_OBJS): EXTRA_CFLAGS += $(REC_CFLAGS)

# kernel/core/sha256.c, chap_digest.c: the engine's CHAP digests, shared so
# that the target reconciler checks them with the engine's own code.
REC_CORE_OBJS := $(OBJ)/kernel/core/sha256.o $(OBJ)/kernel/core/chap_digest.o

$(REC_LIB): $(REC_OBJS) $(REC_CORE_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^

PLAN_TEST := $(BUILD)/bollard-plan-test
$(OBJ)/reconcilers/tools/bollard_plan_test.o: EXTRA_CFLAGS += $(REC_CFLAGS)
$(PLAN_TEST): $(OBJ)/reconcilers/tools/bollard_plan_test.o $(REC_LIB) $$(SCHEMA_LIB)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(REC_LDLIBS)

# Unit tests: every tests/unit/test_plan*.c is one cmocka binary.
REC_TEST_SRCS := $(sort $(wildcard tests/unit/test_plan*.c))
REC_TESTS     := $(REC_TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
REC_TEST_OBJS := $(REC_TEST_SRCS:%.c=$(OBJ)/%.o)

$(REC_TEST_OBJS): EXTRA_CFLAGS += $(REC_CFLAGS) $(call pc,--cflags cmocka)
$(REC_TESTS): $(BUILD)/tests/unit/%: $(OBJ)/tests/unit/%.o $(REC_LIB) $$(SCHEMA_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(REC_LDLIBS) $(call pc,--libs cmocka)

LIBS       += $(REC_LIB)
PROGS      += $(PLAN_TEST)
UNIT_TESTS += $(REC_TESTS)
ALL_OBJS   += $(REC_OBJS)

# libFuzzer over the live-state parsers (DRBD config syntax, agent meta-data,
# CIB XML canonicalisation).
REC_FUZZ_CC   ?= clang-14
REC_FUZZ      := $(BUILD)/fuzz/fuzz_parsers
REC_FUZZ_SRCS := reconcilers/fuzz/fuzz_parsers.c reconcilers/drbd_conf.c \
                 reconcilers/pcmk_xml.c
$(REC_FUZZ): $(REC_FUZZ_SRCS) $(wildcard reconcilers/*.h)
	@mkdir -p $(@D)
	$(REC_FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined $(CSTD) -D_GNU_SOURCE \
		-Ischema -Ireconcilers $(REC_CFLAGS) $(REC_FUZZ_SRCS) -o $@ \
		$(call pc,--libs jansson libxml-2.0)
fuzz: $(REC_FUZZ)
FUZZERS += $(REC_FUZZ)

# bollard-cib: the fence-peer handler's CIB client (reconcilers/cib_ipc.h
# says why). It links libqb and libbz2 and nothing else of its own (with
# what libqb pulls in, 11 libraries on Debian 12 against cibadmin's 43).
CIB_TOOL      := $(BUILD)/bollard-cib
CIB_TOOL_OBJS := $(OBJ)/reconcilers/tools/bollard_cib.o $(OBJ)/reconcilers/cib_ipc.o \
                 $(OBJ)/schema/bl_err.o $(OBJ)/schema/bl_time.o
$(CIB_TOOL): $(CIB_TOOL_OBJS)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ -lqb -lbz2
PROGS    += $(CIB_TOOL)
ALL_OBJS += $(CIB_TOOL_OBJS)

$(OBJ)/tests/unit/test_cib_ipc.o: EXTRA_CFLAGS += $(call pc,--cflags cmocka)
$(BUILD)/tests/unit/test_cib_ipc: $(OBJ)/tests/unit/test_cib_ipc.o $(OBJ)/reconcilers/cib_ipc.o \
		$(OBJ)/schema/bl_err.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) $^ -o $@ $(call pc,--libs cmocka)
UNIT_TESTS += $(BUILD)/tests/unit/test_cib_ipc
