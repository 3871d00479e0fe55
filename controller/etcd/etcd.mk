# controller/etcd: the etcd v3 client behind bl_etcd.h, in two transports.
#
# Produces:
#   $(BUILD)/libbl_etcd.a     gRPC C core + protobuf-c (bollardd, tools);
#                             link it with $(ETCD_LDLIBS)
#   $(BUILD)/libbl_etcd_http.a  etcd's v3 JSON gateway over HTTP/1.1 (the
#                             `bollard` CLI: no gRPC start-up cost); link
#                             it with $(ETCD_HTTP_LDLIBS). Same API: a
#                             program links exactly one of the two.
#   $(ETCD_PROC_OBJ)          tests/lib/etcd_proc.o: start/stop a throwaway
#                             etcd from C tests (see tests/lib/etcd_proc.h)
#   $(BUILD)/tests/unit/test_etcd*   cmocka tests against a real etcd, each
#                             source built twice: test_etcd_X (gRPC) and
#                             test_etcd_X_http (gateway)
#   $(BUILD)/etcd-bench       puts/s, 10k range time, watch latency
#   $(BUILD)/etcd-bench-http  the same over the gateway client
#   $(BUILD)/etcd-kv          put/get/del/watch from the shell (tests, debug)
#
# The protobuf-c sources are generated at build time by mk/etcd-protos.sh
# (never committed) into $(GEN)/etcd/.

ETCD_PC     := grpc libprotobuf-c
ETCD_CFLAGS := $(call pc,--cflags $(ETCD_PC))
ETCD_LDLIBS := $(call pc,--libs $(ETCD_PC)) -lpthread

ETCD_GEN_C    := $(GEN)/etcd/mvcc/mvccpb/kv.pb-c.c \
                 $(GEN)/etcd/auth/authpb/auth.pb-c.c \
                 $(GEN)/etcd/etcdserver/etcdserverpb/rpc.pb-c.c
ETCD_GEN_H    := $(ETCD_GEN_C:.c=.h)
ETCD_GEN_OBJS := $(ETCD_GEN_C:$(GEN)/%.c=$(OBJ)/gen/%.o)

# One run of the script makes all six files (grouped target).
$(ETCD_GEN_C) $(ETCD_GEN_H) &: mk/etcd-protos.sh
	sh mk/etcd-protos.sh $(BUILD)

ETCD_SRCS := $(sort $(wildcard controller/etcd/*.c))
ETCD_OBJS := $(ETCD_SRCS:%.c=$(OBJ)/%.o)
ETCD_LIB  := $(BUILD)/libbl_etcd.a

$(ETCD_OBJS) $(ETCD_GEN_OBJS): EXTRA_CFLAGS += $(ETCD_CFLAGS)
$(ETCD_OBJS): $(ETCD_GEN_H)

# The client's clock, bl_now_ms() (schema/bl_time.c, libc only), goes into
# both archives, so that whatever order a program lists its libraries in,
# the archive that needs it has it (it is in libbl_schema.a too; a program
# takes one copy, from the first archive that resolves it).
ETCD_UTIL_OBJS := $(OBJ)/schema/bl_time.o

$(ETCD_LIB): $(ETCD_OBJS) $(ETCD_GEN_OBJS) $(ETCD_UTIL_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^

LIBS += $(ETCD_LIB)

# ---- the HTTP/1.1 JSON gateway transport -------------------------------------
ETCD_HTTP_SRCS := $(sort $(wildcard controller/etcd/http/*.c))
ETCD_HTTP_OBJS := $(ETCD_HTTP_SRCS:%.c=$(OBJ)/%.o) $(OBJ)/controller/etcd/etcd_common.o \
                  $(ETCD_UTIL_OBJS)
ETCD_HTTP_LIB  := $(BUILD)/libbl_etcd_http.a
# OpenSSL is dlopen()ed for https:// only (http/http_tls.h): headers, no link.
ETCD_HTTP_LDLIBS := $(call pc,--libs jansson)

$(ETCD_HTTP_SRCS:%.c=$(OBJ)/%.o): EXTRA_CFLAGS += -Icontroller/etcd \
	$(call pc,--cflags jansson libssl)

$(ETCD_HTTP_LIB): $(ETCD_HTTP_OBJS)
	@mkdir -p $(@D)
	rm -f $@; $(AR) rcs $@ $^

LIBS += $(ETCD_HTTP_LIB)

# ---- test helper and tests -------------------------------------------------
ETCD_PROC_OBJ := $(OBJ)/tests/lib/etcd_proc.o

ETCD_TEST_SRCS := $(filter-out tests/unit/test_etcd_http.c,$(sort $(wildcard tests/unit/test_etcd*.c)))
ETCD_TEST_OBJS := $(ETCD_TEST_SRCS:%.c=$(OBJ)/%.o)
ETCD_TESTS     := $(ETCD_TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

$(ETCD_TEST_OBJS): EXTRA_CFLAGS += -Itests/lib -Icontroller/etcd $(call pc,--cflags cmocka)
$(ETCD_TESTS): $(BUILD)/tests/unit/%: $(OBJ)/tests/unit/%.o $(ETCD_PROC_OBJ) \
		$(ETCD_LIB) $(OBJ)/schema/bl_err.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ETCD_LDLIBS) $(call pc,--libs cmocka)

UNIT_TESTS += $(ETCD_TESTS)

# The same tests against the gateway transport (parametrized by the link).
ETCD_HTTP_TESTS := $(ETCD_TESTS:%=%_http)
$(ETCD_HTTP_TESTS): $(BUILD)/tests/unit/%_http: $(OBJ)/tests/unit/%.o $(ETCD_PROC_OBJ) \
		$(ETCD_HTTP_LIB) $(OBJ)/schema/bl_err.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ETCD_HTTP_LDLIBS) $(call pc,--libs cmocka)

UNIT_TESTS += $(ETCD_HTTP_TESTS)

# What only the gateway transport has (keep-alive, framing, relay failover).
$(OBJ)/tests/unit/test_etcd_http.o: EXTRA_CFLAGS += -Itests/lib -Icontroller/etcd $(call pc,--cflags cmocka)
$(BUILD)/tests/unit/test_etcd_http: $(OBJ)/tests/unit/test_etcd_http.o $(ETCD_PROC_OBJ) \
		$(ETCD_HTTP_LIB) $(OBJ)/schema/bl_err.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ETCD_HTTP_LDLIBS) $(call pc,--libs cmocka) -lpthread

UNIT_TESTS += $(BUILD)/tests/unit/test_etcd_http

# ---- benchmark ---------------------------------------------------------------
ETCD_BENCH_OBJ := $(OBJ)/controller/etcd/bench/etcd_bench.o
$(ETCD_BENCH_OBJ): EXTRA_CFLAGS += -Itests/lib -Icontroller/etcd
$(BUILD)/etcd-bench: $(ETCD_BENCH_OBJ) $(ETCD_PROC_OBJ) $(ETCD_LIB) \
		$(OBJ)/schema/bl_err.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ETCD_LDLIBS)

PROGS += $(BUILD)/etcd-bench

# The same benchmark over the JSON gateway client.
$(BUILD)/etcd-bench-http: $(ETCD_BENCH_OBJ) $(ETCD_PROC_OBJ) $(ETCD_HTTP_LIB) \
		$(OBJ)/schema/bl_err.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ETCD_HTTP_LDLIBS)

PROGS += $(BUILD)/etcd-bench-http

# ---- etcd-kv: the client from the shell ----------------------------------------
ETCD_KV_OBJ := $(OBJ)/controller/etcd/tools/etcd_kv.o
$(ETCD_KV_OBJ): EXTRA_CFLAGS += -Icontroller/etcd
$(BUILD)/etcd-kv: $(ETCD_KV_OBJ) $(ETCD_LIB) $(OBJ)/schema/bl_err.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ETCD_LDLIBS)

PROGS += $(BUILD)/etcd-kv
