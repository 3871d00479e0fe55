# bench/: benchmark helpers (make bench runs bench/*.sh through bench/run.sh).
$(OBJ)/bench/plan_bench.o: EXTRA_CFLAGS += $(REC_CFLAGS)
$(BUILD)/bollard-bench-plan: $(OBJ)/bench/plan_bench.o $$(REC_LIB) $$(SCHEMA_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(REC_LDLIBS)
PROGS += $(BUILD)/bollard-bench-plan

# COMPARE AND WRITE latency under bulk load (bench/caw_load.sh).
$(OBJ)/bench/caw_probe.o: EXTRA_CFLAGS += $(call pc,--cflags libiscsi)
$(BUILD)/bollard-bench-caw: $(OBJ)/bench/caw_probe.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(or $(call pc,--libs libiscsi),-liscsi) -lpthread
PROGS += $(BUILD)/bollard-bench-caw
