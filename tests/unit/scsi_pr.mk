# tests/unit/scsi_pr.mk: the persistent-reservation store test
# (kernel/core/scsi_pr_store.c). Included after tests/unit/scsi.mk (sorted
# fragment order), whose SCSI_* variables it reuses.
#
# The SCSI layer now needs CRC32C (the store's slot checksums): every SCSI
# test binary and the CDB fuzzer link kernel/core/crc32c.c as well. (This
# belongs in scsi.mk's SCSI_CORE_OBJS / SCSI_FUZZ_SRCS; it is added here so
# the owner of scsi.mk can fold it in.)
$(SCSI_TESTS): $(OBJ)/kernel/core/crc32c.o
SCSI_FUZZ_SRCS += kernel/core/crc32c.c
$(BUILD)/fuzz/fuzz_cdb: kernel/core/crc32c.c

SCSI_PR_TESTS := $(BUILD)/tests/unit/test_scsi_pr_store
$(SCSI_PR_TESTS): $(BUILD)/tests/unit/%: $(OBJ)/tests/unit/%.o $(SCSI_TEST_SUPPORT) \
		$(SCSI_CORE_OBJS) $(OBJ)/kernel/core/crc32c.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

UNIT_TESTS += $(SCSI_PR_TESTS)
scsi-tests: $(SCSI_PR_TESTS)
