# controller/daemon: bollardd's pieces: work queue, informer cache, leader
# election, and (later) the daemon itself.
DAEMON_LIB_SRCS := controller/daemon/workqueue.c controller/daemon/informer.c \
                   controller/daemon/leader.c
DAEMON_LIB_OBJS := $(DAEMON_LIB_SRCS:%.c=$(OBJ)/%.o)
DAEMON_LIB      := $(BUILD)/libbl_daemon.a

$(DAEMON_LIB_OBJS): EXTRA_CFLAGS += -Icontroller/etcd $(call pc,--cflags jansson)
$(OBJ)/controller/daemon/informer.o $(OBJ)/controller/daemon/leader.o: $(ETCD_GEN_H)

$(DAEMON_LIB): $(DAEMON_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^
LIBS += $(DAEMON_LIB)

$(OBJ)/tests/unit/test_workqueue.o $(OBJ)/tests/unit/test_informer.o: \
	EXTRA_CFLAGS += -Icontroller/etcd $(call pc,--cflags jansson cmocka)

$(BUILD)/tests/unit/test_workqueue: $(OBJ)/tests/unit/test_workqueue.o $(DAEMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

$(BUILD)/tests/unit/test_informer: $(OBJ)/tests/unit/test_informer.o $(DAEMON_LIB) \
		$$(SCHEMA_LIB) $$(ETCD_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SCHEMA_LDLIBS) $(ETCD_LDLIBS) -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_workqueue $(BUILD)/tests/unit/test_informer
