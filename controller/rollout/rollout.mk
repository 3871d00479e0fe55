# controller/rollout: fleet-wide rollouts. libbl_rollout.a holds the pure
# wave logic (wave.c), the fleet controller (rollout.c), the admitted-view
# helper bollardd uses (effective.c); cli_rollout.c is linked into
# build/bollard as `bollard rollout`.
RO_LIB_SRCS := controller/rollout/wave.c controller/rollout/common.c \
               controller/rollout/effective.c controller/rollout/rollout.c \
               controller/rollout/fleet_run.c controller/rollout/admit_watch.c \
               controller/rollout/status_store.c
RO_LIB_OBJS := $(RO_LIB_SRCS:%.c=$(OBJ)/%.o)
RO_LIB      := $(BUILD)/libbl_rollout.a

$(RO_LIB_OBJS): EXTRA_CFLAGS += -Icontroller/etcd $(call pc,--cflags jansson)
$(RO_LIB_OBJS): $(ETCD_GEN_H)

$(RO_LIB): $(RO_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^
LIBS += $(RO_LIB)

$(OBJ)/tests/unit/test_rollout.o: EXTRA_CFLAGS += $(call pc,--cflags cmocka)
$(BUILD)/tests/unit/test_rollout: $(OBJ)/tests/unit/test_rollout.o $(OBJ)/controller/rollout/wave.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka
UNIT_TESTS += $(BUILD)/tests/unit/test_rollout

# bollardd (controller.c, main.c) calls into the library, which calls back
# into libbl_daemon.a (informer, leader): append both after the daemon's.
DAEMON_LINK += $(RO_LIB) $(DAEMON_LIB) $(SCHEMA_LIB) $(ETCD_LIB)

# `bollard rollout`: linked into build/bollard (controller/cli/cli.mk's hook).
RO_CLI_OBJS := $(OBJ)/controller/rollout/cli_rollout.o $(OBJ)/controller/rollout/fleet_sim.o \
               $(OBJ)/controller/rollout/common.o \
               $(OBJ)/controller/rollout/status_store.o \
               $(OBJ)/controller/rollout/wave.o
$(OBJ)/controller/rollout/cli_rollout.o $(OBJ)/controller/rollout/fleet_sim.o: \
	EXTRA_CFLAGS += -Icontroller/etcd -Icontroller/cli $(call pc,--cflags jansson)
$(OBJ)/controller/rollout/cli_rollout.o $(OBJ)/controller/rollout/fleet_sim.o: $(ETCD_GEN_H)
BOLLARD_EXTRA_OBJS += $(RO_CLI_OBJS)

# common.c against objects parsed by the real schema library.
$(OBJ)/tests/unit/test_rollout_common.o: EXTRA_CFLAGS += $(call pc,--cflags jansson cmocka)
$(BUILD)/tests/unit/test_rollout_common: $(OBJ)/tests/unit/test_rollout_common.o \
		$(OBJ)/controller/rollout/common.o $$(SCHEMA_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJ)/tests/unit/test_rollout_common.o \
		$(OBJ)/controller/rollout/common.o $(SCHEMA_LIB) $(SCHEMA_LDLIBS) \
		$(call pc,--libs jansson yaml-0.1 cmocka)
UNIT_TESTS += $(BUILD)/tests/unit/test_rollout_common
