# tests/unit/sha256.mk: kernel/core/sha256.c against the FIPS 180-2 example
# vectors and RFC 7914's PBKDF2 ones, and kernel/core/chap_digest.c (the
# engine's CHAP digests, which the target reconciler checks).
$(BUILD)/tests/unit/test_sha256: $(OBJ)/tests/unit/test_sha256.o $(OBJ)/kernel/core/sha256.o \
		$(OBJ)/kernel/core/chap_digest.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_sha256
