# tests/tools/tools.mk: small clients the integration tests drive.
#   bt-pr-tool: persistent reservations through libiscsi.
BT_PR_TOOL := $(BUILD)/tests/bt-pr-tool
BT_PR_TOOL_OBJS := $(OBJ)/tests/tools/bt_pr_tool.o

$(BT_PR_TOOL_OBJS): EXTRA_CFLAGS += $(call pc,--cflags libiscsi)

$(BT_PR_TOOL): $(BT_PR_TOOL_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(or $(call pc,--libs libiscsi),-liscsi)

PROGS += $(BT_PR_TOOL)
bt-pr-tool: $(BT_PR_TOOL)
.PHONY: bt-pr-tool

#   fake-cib: a stand-in CIB manager IPC service with answers a real one
#   cannot be made to give (tests/integration/cib_client.sh).
FAKE_CIB := $(BUILD)/tests/fake-cib
$(FAKE_CIB): $(OBJ)/tests/tools/fake_cib.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lqb -lbz2
PROGS += $(FAKE_CIB)
