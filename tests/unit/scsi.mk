# tests/unit/scsi.mk: unit tests and fuzzer of the SCSI layer
# (kernel/core/scsi_*.c). They link the SCSI objects with the real object
# model (engine.c), the memory backend (membdev.c), a libc os shim
# (os_test.c) and stubs of the iSCSI layer's engine hooks
# (test_scsi_harness.c), so the SCSI layer is tested without the transport.

SCSI_CORE_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(sort $(wildcard kernel/core/scsi_*.c))) \
                  $(OBJ)/kernel/core/engine.o $(OBJ)/kernel/core/chap_digest.o \
                  $(OBJ)/kernel/core/sha256.o
SCSI_TEST_SUPPORT := $(OBJ)/tests/unit/test_scsi_harness.o $(OBJ)/tests/unit/membdev.o \
                     $(OBJ)/tests/unit/os_test.o
SCSI_TESTS := $(BUILD)/tests/unit/test_scsi_spc $(BUILD)/tests/unit/test_scsi_rw \
              $(BUILD)/tests/unit/test_scsi_pr $(BUILD)/tests/unit/test_scsi_xcopy

$(SCSI_TESTS): $(BUILD)/tests/unit/%: $(OBJ)/tests/unit/%.o $(SCSI_TEST_SUPPORT) $(SCSI_CORE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

$(OBJ)/tests/unit/test_scsi_%.o $(OBJ)/tests/unit/membdev.o $(OBJ)/tests/unit/os_test.o: \
	EXTRA_CFLAGS += -Itests/unit

UNIT_TESTS += $(SCSI_TESTS)
scsi-tests: $(SCSI_TESTS)


# ---- fuzzer: random CDBs + Data-Out against LUs on the memory backend -----
SCSI_FUZZ_CC ?= clang-14
SCSI_FUZZ_SRCS := tests/fuzz/fuzz_cdb.c tests/unit/test_scsi_harness.c tests/unit/membdev.c \
                  tests/unit/os_test.c kernel/core/engine.c $(sort $(wildcard kernel/core/scsi_*.c))
$(BUILD)/fuzz/fuzz_cdb: $(SCSI_FUZZ_SRCS) $(wildcard kernel/core/*.h) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(SCSI_FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -D_GNU_SOURCE \
		-Ikernel/core -Itests/unit -o $@ $(SCSI_FUZZ_SRCS)

FUZZERS += $(BUILD)/fuzz/fuzz_cdb
fuzz: $(BUILD)/fuzz/fuzz_cdb
