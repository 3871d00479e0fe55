# tests/unit/scsi_sbc.mk: test_scsi_sbc (GET LBA STATUS with allocation
# information, LBPPBE, WRITE ATOMIC(16), read/atomic ordering), linked like
# the other SCSI-layer tests of tests/unit/scsi.mk (included before this
# file; it defines SCSI_TEST_SUPPORT / SCSI_CORE_OBJS and gives
# test_scsi_*.o their include path). The core library comes last so helpers
# the SCSI files need (crc32c ...) resolve without this file naming them.
$(BUILD)/tests/unit/test_scsi_sbc: $(OBJ)/tests/unit/test_scsi_sbc.o \
		$$(SCSI_TEST_SUPPORT) $$(SCSI_CORE_OBJS) $$(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(CORE_LIB) -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_scsi_sbc
scsi-tests: $(BUILD)/tests/unit/test_scsi_sbc
