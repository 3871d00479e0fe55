# controller/daemon: bollardd's pieces (work queue so far).
WQ_OBJS := $(OBJ)/controller/daemon/workqueue.o

$(BUILD)/tests/unit/test_workqueue: $(OBJ)/tests/unit/test_workqueue.o $(WQ_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_workqueue
