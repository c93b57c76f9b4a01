# Benchmarks: Rust (criterion, beside peer crates) and Python (beside peer
# packages). Included by the top Makefile. See docs/benchmarks.md.
#
#   make bench          everything, in one go: Rust benches, their report,
#                       Python benches (a few minutes on 2 cores)
#   make bench-rust     only the criterion benches (BENCH_FILTER=regex)
#   make bench-report   only the Rust table, from the last criterion run
#   make bench-python   only the Python benches
#   make bench-probe    micro-experiment: where a ringlock get spends its time
#
# bench/ is a crate of its own (own [workspace], own Cargo.lock, own target
# dir bench/target): the peer crates never enter the main workspace's build.
# Times are short on purpose (a shared 2-core machine): read medians and
# ratios, not single numbers. BENCH_TIME="--measurement-time 5" for longer.

BENCH_TARGET    := $(abspath bench/target)
BENCH_CRITERION := $(BENCH_TARGET)/criterion
BENCH_TIME      ?= --warm-up-time 1 --measurement-time 2
BENCH_FILTER    ?=
BENCH_CARGO      = cd bench && CRITERION_HOME=$(BENCH_CRITERION) $(CARGO) bench --quiet \
                   --target-dir $(BENCH_TARGET)

.PHONY: bench bench-rust bench-report bench-python bench-deps bench-probe

$(VENV)/.bench-stamp: bench/requirements.txt $(VENV)/.stamp
	$(VPY) -m pip install --quiet -r bench/requirements.txt
	touch $@

bench-deps: $(VENV)/.bench-stamp

bench-rust:
	$(BENCH_CARGO) --bench ring -- $(BENCH_TIME) --noplot --output-format bencher $(BENCH_FILTER)

bench-report:
	$(PYTHON) bench/report.py $(BENCH_CRITERION)

bench-python: python bench-deps
	$(VPY) bench/python/bench_ring.py

bench-probe:
	$(BENCH_CARGO) --bench probe -- $(BENCH_TIME) --noplot --output-format bencher $(BENCH_FILTER)

# one invocation, in this order: Rust benches, their report, Python benches
bench: python bench-deps
	@$(MAKE) --no-print-directory bench-rust
	@echo
	@$(MAKE) --no-print-directory bench-report
	@echo
	$(VPY) bench/python/bench_ring.py
