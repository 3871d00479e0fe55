# controller/rollout: fleet-wide rollouts. libbl_rollout.a holds the pure
# wave logic (wave.c), the fleet controller (rollout.c), the admitted-view
# helper bollardd uses (effective.c); cli_rollout.c is linked into
# build/bollard as `bollard rollout`.
RO_LIB_SRCS := controller/rollout/wave.c
RO_LIB_OBJS := $(RO_LIB_SRCS:%.c=$(OBJ)/%.o)
RO_LIB      := $(BUILD)/libbl_rollout.a

$(RO_LIB_OBJS): EXTRA_CFLAGS += -Icontroller/etcd $(call pc,--cflags jansson)

$(RO_LIB): $(RO_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^
LIBS += $(RO_LIB)

$(OBJ)/tests/unit/test_rollout.o: EXTRA_CFLAGS += $(call pc,--cflags cmocka)
$(BUILD)/tests/unit/test_rollout: $(OBJ)/tests/unit/test_rollout.o $(OBJ)/controller/rollout/wave.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcmocka
UNIT_TESTS += $(BUILD)/tests/unit/test_rollout
