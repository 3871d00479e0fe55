# controller/cli: the `bollard` command line tool (build/bollard).
#
# Links the schema library and the etcd client over etcd's JSON gateway
# (libbl_etcd_http.a), never the gRPC one: gRPC's ~90 shared libraries cost
# every invocation ~40 ms of dynamic loading (docs/etcd.md). Check with
# `ldd build/bollard | grep -c grpc` (0). Other fragments can add
# objects to the binary (e.g. controller/targetctl's cmd_target) through
# BOLLARD_EXTRA_OBJS / BOLLARD_EXTRA_LDLIBS without touching this file.
CLI_SRCS := $(sort $(wildcard controller/cli/*.c))
CLI_OBJS := $(CLI_SRCS:%.c=$(OBJ)/%.o)
# Pure pieces, linked alone into the unit test.
CLI_PURE_OBJS := $(addprefix $(OBJ)/controller/cli/,table.o selector.o udiff.o minor.o)

$(CLI_OBJS): EXTRA_CFLAGS += -Icontroller/etcd -Icontroller/cli $(call pc,--cflags jansson libcurl)
# `up` lists what the engine serves (management client, controller/targetctl).
$(OBJ)/controller/cli/up_node.o: EXTRA_CFLAGS += -Icontroller/targetctl $(call pc,--cflags libmnl)

CLI_SCHEMA_LIB = $(if $(SCHEMA_LIB),$(SCHEMA_LIB),$(BUILD)/libbl_schema.a)
CLI_ETCD_LIB   = $(if $(ETCD_HTTP_LIB),$(ETCD_HTTP_LIB),$(BUILD)/libbl_etcd_http.a)
# libcurl is dlopen()ed by input.c when a URL is fetched (not linked).
CLI_LDLIBS     = $(call pc,--libs jansson yaml-0.1)

$(BUILD)/bollard: $(CLI_OBJS) $$(BOLLARD_EXTRA_OBJS) $$(CLI_SCHEMA_LIB) $$(CLI_ETCD_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(BOLLARD_EXTRA_OBJS) \
		$(BOLLARD_EXTRA_LDLIBS) $(CLI_ETCD_LIB) $(CLI_SCHEMA_LIB) \
		$(ETCD_HTTP_LDLIBS) $(SCHEMA_LDLIBS) $(CLI_LDLIBS) -lpthread

PROGS += $(BUILD)/bollard

# build/bollard-plan: the same CLI plus `bollard plan` (BOLLARD_PLAN_OBJS,
# from controller/daemon/daemon.mk: the reconcilers, libxml2). bollard
# execs it for `plan` only (main.c, exec_sibling), so no other command
# loads libxml2/ICU/libstdc++ at start-up.
$(BUILD)/bollard-plan: $(CLI_OBJS) $$(BOLLARD_EXTRA_OBJS) $$(BOLLARD_PLAN_OBJS) \
		$$(CLI_SCHEMA_LIB) $$(CLI_ETCD_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(BOLLARD_EXTRA_OBJS) $(BOLLARD_PLAN_OBJS) \
		$(BOLLARD_EXTRA_LDLIBS) $(BOLLARD_PLAN_LDLIBS) $(CLI_ETCD_LIB) $(CLI_SCHEMA_LIB) \
		$(ETCD_HTTP_LDLIBS) $(SCHEMA_LDLIBS) $(CLI_LDLIBS) -lpthread

PROGS += $(BUILD)/bollard-plan

# Unit tests of the pure pieces (cmocka).
$(OBJ)/tests/unit/test_cli.o: EXTRA_CFLAGS += $(call pc,--cflags jansson cmocka) -Icontroller/cli
$(BUILD)/tests/unit/test_cli: $(OBJ)/tests/unit/test_cli.o $(CLI_PURE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc,--libs jansson cmocka)

UNIT_TESTS += $(BUILD)/tests/unit/test_cli

# libFuzzer over the selector parser and the unified diff.
CLI_FUZZ := $(BUILD)/fuzz/fuzz_cli
$(CLI_FUZZ): controller/cli/fuzz/fuzz_cli.c controller/cli/selector.c controller/cli/udiff.c controller/cli/cli.h
	@mkdir -p $(@D)
	$(or $(FUZZ_CC),clang-14) -g -O1 -fsanitize=fuzzer,address,undefined $(CSTD) -D_GNU_SOURCE \
		-Ischema -Icontroller/cli $(call pc,--cflags jansson) \
		controller/cli/fuzz/fuzz_cli.c controller/cli/selector.c controller/cli/udiff.c \
		-o $@ $(call pc,--libs jansson)

fuzz: $(CLI_FUZZ)
FUZZERS += $(CLI_FUZZ)

# The planner against hand-built snapshots (links the schema library).
CLI_PLAN_OBJS := $(addprefix $(OBJ)/controller/cli/,plan.o snap.o selector.o minor.o)
$(OBJ)/tests/unit/test_cli_plan.o: EXTRA_CFLAGS += $(call pc,--cflags jansson cmocka) -Icontroller/cli
$(BUILD)/tests/unit/test_cli_plan: $(OBJ)/tests/unit/test_cli_plan.o $(CLI_PLAN_OBJS) $$(CLI_SCHEMA_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJ)/tests/unit/test_cli_plan.o $(CLI_PLAN_OBJS) \
		$(CLI_SCHEMA_LIB) $(SCHEMA_LDLIBS) $(call pc,--libs jansson yaml-0.1 cmocka)

UNIT_TESTS += $(BUILD)/tests/unit/test_cli_plan
