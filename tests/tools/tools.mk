# tests/tools/tools.mk: small clients the integration tests drive.
#   bt-pr-tool: persistent reservations through libiscsi, and bt_lun_add
#   with explicit feature bits through the management socket.
BT_PR_TOOL := $(BUILD)/tests/bt-pr-tool
BT_PR_TOOL_OBJS := $(OBJ)/tests/tools/bt_pr_tool.o

$(BT_PR_TOOL_OBJS): EXTRA_CFLAGS += $(call pc,--cflags libiscsi) $(call pc,--cflags libmnl)

$(BT_PR_TOOL): $(BT_PR_TOOL_OBJS) $(OBJ)/controller/targetctl/bt_mgmt_client.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(or $(call pc,--libs libiscsi),-liscsi) \
		$(call pc,--libs libmnl)

PROGS += $(BT_PR_TOOL)
bt-pr-tool: $(BT_PR_TOOL)
.PHONY: bt-pr-tool
