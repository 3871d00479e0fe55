# tests/unit/sha256.mk: kernel/core/sha256.c against the FIPS 180-2 example
# vectors (the engine's CHAP digests and the target reconciler use it).
$(BUILD)/tests/unit/test_sha256: $(OBJ)/tests/unit/test_sha256.o $(OBJ)/kernel/core/sha256.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_sha256
