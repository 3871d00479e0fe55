# tests/ha/ha.mk: the initiator of the HA failover test (tests/ha/), a
# small libiscsi program run from the host against the guests, and
# `make check-ha`.
HA_CLIENT := $(BUILD)/tests/ha/ha_client
HA_CLIENT_OBJS := $(OBJ)/tests/ha/ha_client.o $(OBJ)/tests/ha/caw.o

$(HA_CLIENT_OBJS): EXTRA_CFLAGS += $(call pc,--cflags libiscsi)

$(HA_CLIENT): $(HA_CLIENT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(or $(call pc,--libs libiscsi),-liscsi)

PROGS += $(HA_CLIENT)

# The judge of the CAW heartbeat (tests/ha/caw.c) without iSCSI: made-up
# outcomes, a survivor answering a hard error must be a failure.
$(OBJ)/tests/unit/test_ha_caw.o: EXTRA_CFLAGS += -Itests/ha $(call pc,--cflags cmocka)
$(BUILD)/tests/unit/test_ha_caw: $(OBJ)/tests/unit/test_ha_caw.o $(OBJ)/tests/ha/caw.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka
UNIT_TESTS += $(BUILD)/tests/unit/test_ha_caw
ha-client: $(HA_CLIENT)
.PHONY: ha-client

# `make check-ha`: the HA tier alone (tests/ha/ha_failover.sh: two qemu
# guests, about 10 minutes on 2 cores). Under CI=true a missing qemu or
# kernel fails it instead of skipping (tests/run.sh).
check-ha: deps
	@$(MAKE) --no-print-directory all
	@bash tests/run.sh ha
.PHONY: check-ha
