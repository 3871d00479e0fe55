# tests/ha/ha.mk: the initiator of the HA failover test (tests/ha/), a
# small libiscsi program run from the host against the guests.
HA_CLIENT := $(BUILD)/tests/ha/ha_client
HA_CLIENT_OBJS := $(OBJ)/tests/ha/ha_client.o

$(HA_CLIENT_OBJS): EXTRA_CFLAGS += $(call pc,--cflags libiscsi)

$(HA_CLIENT): $(HA_CLIENT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(or $(call pc,--libs libiscsi),-liscsi)

PROGS += $(HA_CLIENT)
ha-client: $(HA_CLIENT)
.PHONY: ha-client
