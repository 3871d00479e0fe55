# bench/: benchmark helpers (make bench runs bench/*.sh through bench/run.sh).
$(OBJ)/bench/plan_bench.o: EXTRA_CFLAGS += $(REC_CFLAGS)
$(BUILD)/bollard-bench-plan: $(OBJ)/bench/plan_bench.o $$(REC_LIB) $$(SCHEMA_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(REC_LDLIBS)
PROGS += $(BUILD)/bollard-bench-plan
