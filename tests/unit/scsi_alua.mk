# tests/unit/scsi_alua.mk: the ALUA unit test (kernel/core/scsi_alua.c),
# linked like the other SCSI-layer tests of tests/unit/scsi.mk (included
# before this file: "scsi.mk" sorts before "scsi_alua.mk"). The core
# library comes last so helpers new SCSI files need (crc32c ...) resolve
# without this file knowing them; the objects named before it win.
$(BUILD)/tests/unit/test_scsi_alua: $(OBJ)/tests/unit/test_scsi_alua.o \
		$$(SCSI_TEST_SUPPORT) $$(SCSI_CORE_OBJS) $$(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(CORE_LIB) -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_scsi_alua
