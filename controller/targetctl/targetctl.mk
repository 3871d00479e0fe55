# controller/targetctl: the management client library (libbl_targetctl.a,
# `bollard target`), plus the unit tests and fuzzer of the engine's object
# model and management front end (kernel/core/engine.c, mgmt.c, nla.c).
#
# The engine tests link engine/mgmt/nla objects directly with local fakes of
# the host and of the iSCSI/SCSI layers (tests/unit/test_engine_fakes.c), not
# libbt_core.a, so they test those files alone.

TGTCTL_SRCS := controller/targetctl/bt_mgmt_client.c controller/targetctl/target_cli.c \
               controller/targetctl/target_print.c controller/targetctl/drbd_watch.c
TGTCTL_OBJS := $(TGTCTL_SRCS:%.c=$(OBJ)/%.o)
TGTCTL_LIB  := $(BUILD)/libbl_targetctl.a

$(TGTCTL_OBJS): EXTRA_CFLAGS += $(call pc,--cflags libmnl) $(call pc,--cflags jansson)

$(TGTCTL_LIB): $(TGTCTL_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^

LIBS += $(TGTCTL_LIB)
BOLLARD_EXTRA_OBJS   += $(TGTCTL_OBJS)
BOLLARD_EXTRA_LDLIBS += $(call pc,--libs libmnl) $(call pc,--libs jansson)

# ---- engine unit tests ----------------------------------------------------
MGMT_CORE_OBJS := $(OBJ)/kernel/core/engine.o $(OBJ)/kernel/core/mgmt.o \
                  $(OBJ)/kernel/core/nla.o $(OBJ)/kernel/core/chap_digest.o \
                  $(OBJ)/kernel/core/sha256.o
MGMT_FAKE_OBJS := $(OBJ)/tests/unit/test_engine_fakes.o

$(BUILD)/tests/unit/test_engine: $(OBJ)/tests/unit/test_engine.o $(MGMT_CORE_OBJS) $(MGMT_FAKE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

$(BUILD)/tests/unit/test_mgmt_nla: $(OBJ)/tests/unit/test_mgmt_nla.o $(MGMT_CORE_OBJS) $(MGMT_FAKE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka $(call pc,--libs libmnl)

# test_mgmt also drives bollardd's in-process runner (target_exec.c) over
# the same loopback connection.
$(BUILD)/tests/unit/test_mgmt: $(OBJ)/tests/unit/test_mgmt.o $(MGMT_CORE_OBJS) $(MGMT_FAKE_OBJS) \
		$(filter-out $(OBJ)/controller/targetctl/target_cli.o,$(TGTCTL_OBJS)) \
		$(OBJ)/controller/daemon/target_exec.o $(OBJ)/controller/daemon/spawn.o \
		$$(REC_LIB) $$(SCHEMA_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(REC_LIB) $(SCHEMA_LIB) -lcmocka \
		$(call pc,--libs libmnl) $(REC_LDLIBS)

UNIT_TESTS += $(BUILD)/tests/unit/test_engine $(BUILD)/tests/unit/test_mgmt_nla \
              $(BUILD)/tests/unit/test_mgmt

# ---- fuzzer ---------------------------------------------------------------
FUZZ_CC ?= clang-14
$(BUILD)/fuzz/fuzz_mgmt: tests/fuzz/fuzz_mgmt.c kernel/core/engine.c kernel/core/mgmt.c \
		kernel/core/nla.c tests/unit/test_engine_fakes.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
		-Ikernel/core -Itests/unit -o $@ $^

FUZZERS += $(BUILD)/fuzz/fuzz_mgmt
fuzz: $(BUILD)/fuzz/fuzz_mgmt
$(OBJ)/tests/unit/test_mgmt.o: EXTRA_CFLAGS += $(call pc,--cflags libmnl) $(REC_CFLAGS)
$(OBJ)/tests/unit/test_mgmt_nla.o: EXTRA_CFLAGS += $(call pc,--cflags libmnl)

# The management socket server with the real epoll loop, driven by the client.
$(OBJ)/tests/unit/test_mgmt_sock.o: EXTRA_CFLAGS += $(call pc,--cflags libmnl)
$(BUILD)/tests/unit/test_mgmt_sock: $(OBJ)/tests/unit/test_mgmt_sock.o $(OBJ)/kernel/user/mgmt_sock.o \
		$(OBJ)/kernel/user/loop.o $(MGMT_CORE_OBJS) $(MGMT_FAKE_OBJS) \
		$(OBJ)/controller/targetctl/bt_mgmt_client.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka $(call pc,--libs libmnl) -lpthread

UNIT_TESTS += $(BUILD)/tests/unit/test_mgmt_sock

# `enable --wait`'s reading of /proc/drbd (drbd_watch.c, pure).
$(BUILD)/tests/unit/test_drbd_watch: $(OBJ)/tests/unit/test_drbd_watch.o \
		$(OBJ)/controller/targetctl/drbd_watch.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_drbd_watch
