# kernel/user: the userspace host build/bollard-target (engine + epoll loop +
# io_uring backend + management socket server when mgmt_sock.c is present).
USER_SRCS := kernel/user/main.c kernel/user/loop.c kernel/user/net.c \
             kernel/user/bdev.c kernel/user/prio.c kernel/user/os_user.c \
             $(wildcard kernel/user/mgmt_sock.c)
USER_OBJS := $(USER_SRCS:%.c=$(OBJ)/%.o)
USER_LIBS := $(or $(call pc,--libs liburing),-luring)

$(BUILD)/bollard-target: $(USER_OBJS) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(USER_OBJS) $(CORE_LIB) $(USER_LIBS) -lpthread

PROGS += $(BUILD)/bollard-target

# ---- iSCSI unit tests (cmocka) -------------------------------------------
# They link the transport's pure pieces directly (not libbt_core.a), with
# their own bt_os.h stand-ins, so they need neither engine.c nor the SCSI
# layer; test_iscsi_conn drives whole logins through bt_conn_rx against the
# real engine.c with a fake SCSI layer.
ISCSI_PURE_OBJS := $(addprefix $(OBJ)/kernel/core/,crc32c.o md5.o iscsi_text.o \
                   iscsi_neg.o iscsi_chap.o)
CMOCKA_LIBS := $(or $(call pc,--libs cmocka),-lcmocka)

$(BUILD)/tests/unit/test_iscsi_codec: $(OBJ)/tests/unit/test_iscsi_codec.o $(ISCSI_PURE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)

ISCSI_CONN_OBJS := $(addprefix $(OBJ)/kernel/core/,crc32c.o md5.o iscsi_text.o \
                   iscsi_neg.o iscsi_chap.o iscsi_pdu.o iscsi_conn.o \
                   iscsi_login.o iscsi_cmd.o iscsi_session.o engine.o \
                   chap_digest.o sha256.o)
$(BUILD)/tests/unit/test_iscsi_conn: $(OBJ)/tests/unit/test_iscsi_conn.o $(ISCSI_CONN_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS)

UNIT_TESTS += $(if $(wildcard tests/unit/test_iscsi_codec.c),$(BUILD)/tests/unit/test_iscsi_codec)
UNIT_TESTS += $(if $(wildcard tests/unit/test_iscsi_conn.c),$(BUILD)/tests/unit/test_iscsi_conn)

# ---- fuzzers (clang-14 libFuzzer + ASan), built from source in one go ------
FUZZ_CC := clang-14
FUZZ_CORE_SRCS := $(filter-out kernel/core/mgmt.c kernel/core/nla.c,$(CORE_SRCS))
FUZZ_FLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
              -Ikernel/core -Ikernel/user/tools
FUZZ_HOST := kernel/user/tools/fuzz_host.c

$(BUILD)/fuzz/fuzz_pdu: tests/fuzz/fuzz_pdu.c $(FUZZ_HOST) $(CORE_SRCS) $(wildcard kernel/core/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_pdu.c $(FUZZ_HOST) $(FUZZ_CORE_SRCS)

$(BUILD)/fuzz/fuzz_login: tests/fuzz/fuzz_login.c $(FUZZ_HOST) $(CORE_SRCS) $(wildcard kernel/core/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_login.c $(FUZZ_HOST) $(FUZZ_CORE_SRCS)

ifneq ($(wildcard tests/fuzz/fuzz_pdu.c),)
FUZZERS += $(BUILD)/fuzz/fuzz_pdu
fuzz: $(BUILD)/fuzz/fuzz_pdu
endif
ifneq ($(wildcard tests/fuzz/fuzz_login.c),)
FUZZERS += $(BUILD)/fuzz/fuzz_login
fuzz: $(BUILD)/fuzz/fuzz_login
endif

# ---- test helper: a small libiscsi client for tests/integration ----------
$(OBJ)/kernel/user/tools/bt_iscsi_rw.o: EXTRA_CFLAGS += $(call pc,--cflags libiscsi)
$(BUILD)/tests/bt-iscsi-rw: $(OBJ)/kernel/user/tools/bt_iscsi_rw.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(or $(call pc,--libs libiscsi),-liscsi)

PROGS += $(BUILD)/tests/bt-iscsi-rw
