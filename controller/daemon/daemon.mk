# controller/daemon: bollardd. The pieces (work queue, informer cache,
# leader election, command runners, the loop) form libbl_daemon.a so tests
# and `bollard plan` can use them; main.c makes build/bollardd.
DAEMON_LIB_SRCS := controller/daemon/workqueue.c controller/daemon/informer.c \
                   controller/daemon/leader.c controller/daemon/spawn.c \
                   controller/daemon/target_exec.c controller/daemon/controller.c \
                   controller/daemon/volume_status.c controller/daemon/memlog.c \
                   controller/daemon/hb_lease.c controller/daemon/ctl_status.c \
                   controller/daemon/ctl_elect.c
DAEMON_LIB_OBJS := $(DAEMON_LIB_SRCS:%.c=$(OBJ)/%.o)
DAEMON_LIB      := $(BUILD)/libbl_daemon.a

$(DAEMON_LIB_OBJS) $(OBJ)/controller/daemon/main.o: EXTRA_CFLAGS += -Icontroller/etcd \
	-Icontroller/targetctl $(call pc,--cflags jansson libxml-2.0 libmnl)
$(DAEMON_LIB_OBJS) $(OBJ)/controller/daemon/main.o: $(ETCD_GEN_H)

$(DAEMON_LIB): $(DAEMON_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^
LIBS += $(DAEMON_LIB)

# Link order: daemon, reconcilers, targetctl, schema, etcd.
DAEMON_LINK = $(DAEMON_LIB) $(REC_LIB) $(TGTCTL_LIB) $(SCHEMA_LIB) $(ETCD_LIB)
DAEMON_LDLIBS = $(REC_LDLIBS) $(SCHEMA_LDLIBS) $(ETCD_LDLIBS) $(call pc,--libs libmnl jansson)

$(BUILD)/bollardd: $(OBJ)/controller/daemon/main.o $$(DAEMON_LINK)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DAEMON_LDLIBS)
PROGS += $(BUILD)/bollardd

# `bollard plan` lives here (it needs the reconcilers) and is linked into
# build/bollard-plan, which build/bollard execs for `plan` (controller/cli/
# cli.mk: the reconcilers' libxml2 would slow every other command's start).
$(OBJ)/controller/daemon/live_plan.o: EXTRA_CFLAGS += -Icontroller/etcd \
	-Icontroller/targetctl $(call pc,--cflags jansson libxml-2.0)
$(OBJ)/controller/daemon/live_plan.o: $(ETCD_GEN_H)
BOLLARD_PLAN_OBJS   += $(OBJ)/controller/daemon/live_plan.o $(DAEMON_LIB) $(REC_LIB)
BOLLARD_PLAN_LDLIBS += $(call pc,--libs libxml-2.0)

$(OBJ)/tests/unit/test_workqueue.o $(OBJ)/tests/unit/test_informer.o: \
	EXTRA_CFLAGS += -Icontroller/etcd $(call pc,--cflags jansson cmocka)

$(BUILD)/tests/unit/test_workqueue: $(OBJ)/tests/unit/test_workqueue.o $(DAEMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka

$(BUILD)/tests/unit/test_informer: $(OBJ)/tests/unit/test_informer.o $$(DAEMON_LINK)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DAEMON_LDLIBS) -lcmocka

$(OBJ)/tests/unit/test_leader.o: EXTRA_CFLAGS += -Icontroller/etcd -Itests/lib $(call pc,--cflags cmocka)
$(OBJ)/tests/unit/test_leader.o: $(ETCD_GEN_H)
$(BUILD)/tests/unit/test_leader: $(OBJ)/tests/unit/test_leader.o $(DAEMON_LIB) $$(ETCD_PROC_OBJ) $$(DAEMON_LINK)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DAEMON_LDLIBS) -lcmocka

$(OBJ)/tests/unit/test_hb_lease.o: EXTRA_CFLAGS += -Icontroller/etcd -Itests/lib $(call pc,--cflags cmocka)
$(OBJ)/tests/unit/test_hb_lease.o: $(ETCD_GEN_H)
$(BUILD)/tests/unit/test_hb_lease: $(OBJ)/tests/unit/test_hb_lease.o $(DAEMON_LIB) $$(ETCD_PROC_OBJ) $$(DAEMON_LINK)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DAEMON_LDLIBS) -lcmocka

UNIT_TESTS += $(BUILD)/tests/unit/test_workqueue $(BUILD)/tests/unit/test_informer \
              $(BUILD)/tests/unit/test_leader \
              $(BUILD)/tests/unit/test_hb_lease

# bench/controller.sh's in-process probe: etcd put -> engine event, no CLI
# start-up in the figure (bench/cli_converge_probe.c).
$(OBJ)/bench/cli_converge_probe.o: EXTRA_CFLAGS += -Icontroller/etcd -Icontroller/targetctl \
	$(call pc,--cflags jansson)
$(OBJ)/bench/cli_converge_probe.o: $(ETCD_GEN_H)
$(BUILD)/bollard-bench-converge: $(OBJ)/bench/cli_converge_probe.o $$(DAEMON_LINK)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DAEMON_LDLIBS)
PROGS += $(BUILD)/bollard-bench-converge
