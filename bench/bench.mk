# Benchmarks: Rust (criterion, beside peer crates and raw syscalls), C (two
# processes handing a lock back and forth), Python (beside peer packages) and
# the shared ring beside the in-process one.
# Included by the top Makefile, after ffi/ffi.mk (lib, FFI_CFLAGS,
# FFI_LINK_SO). See docs/benchmarks.md.
#
#   make bench          everything, in one go: Rust ring + lock benches, their
#                       report, the C hand-off bench, the Python ring + lock
#                       benches, bench-shared, then bench-profiles (a few
#                       minutes on 2 cores)
#   make bench-rust     only the criterion benches: ring, bounded loads, lock (BENCH_FILTER=regex)
#   make bench-report   only the Rust tables, from the last criterion run
#   make bench-c        only the C hand-off bench (pinned, then not pinned)
#   make bench-python   only the Python benches, ring and lock
#   make bench-lock     only the lock benches: Rust, its table, C, Python
#   make bench-etcd     the etcd lock beside two raw etcd transactions (Rust), its
#                       hand-off beside tooz's etcd3gw lock (Python), and a membership
#                       change to every watcher's new ring beside a raw watch (docs/distributed.md)
#   make bench-probe    micro-experiment: where a ringlock get spends its time
#   make bench-shared   SharedRing beside Ring: Rust get (criterion) and publish,
#                       their table, Rust get interleaved (the 1.2x target), C get, Python get and publish, publish -> reader
#                       notice latency with reader processes (docs/shared-ring.md)
#   make bench-profiles each client profile's get beside libmemcached's
#                       memcached_generate_hash (C) and pylibmc's Client.hash
#                       (Python)
#   make plots          the pictures of docs/benchmarks.md: runs
#                       core/examples/plot_data.rs (balance, keys moved, ns per
#                       get, 10 to 1,000 nodes) and bench/c/handoff.c -t, keeps
#                       their TSV in docs/img/data/, draws docs/img/*.svg with
#                       bench/plots/ (about a minute; not part of `make bench`)
#   make plots-redraw   only the drawing, from the committed docs/img/data/
#   make test-plots     the SVG writer's test, and docs/img/*.svg = its data
#                       (standard library Python only; in `make test`)
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
BENCH_HANDOFF   := $(BUILD)/bench/handoff
BENCH_SHARED_C  := $(BUILD)/bench/shared_get
BENCH_PROFILES  := $(BUILD)/bench/profiles
# arguments of the C hand-off bench (see bench/c/handoff.c), e.g. "-n 100000 -r 5"
BENCH_HANDOFF_ARGS ?=

.PHONY: bench bench-rust bench-report bench-python bench-deps bench-probe bench-c \
        bench-lock bench-lock-rust bench-shared bench-shared-rust bench-profiles

$(VENV)/.bench-stamp: bench/requirements.txt $(VENV)/.stamp
	$(VPY) -m pip install --quiet -r bench/requirements.txt
	touch $@

bench-deps: $(VENV)/.bench-stamp

bench-rust:
	$(BENCH_CARGO) --bench ring --bench bounded --bench lock -- $(BENCH_TIME) --noplot --output-format bencher $(BENCH_FILTER)

bench-lock-rust:
	$(BENCH_CARGO) --bench lock -- $(BENCH_TIME) --noplot --output-format bencher $(BENCH_FILTER)

bench-report:
	$(PYTHON) bench/report.py $(BENCH_CRITERION)

# against target/release/libringlock.so, found at run time through the rpath
# to build/lib (made by `lib`), as the examples are
$(BENCH_HANDOFF): bench/c/handoff.c include/ringlock.h
	@mkdir -p $(dir $@)
	$(CC) $(FFI_CFLAGS) -Iinclude bench/c/handoff.c $(FFI_LINK_SO) -o $@

bench-c: lib $(BENCH_HANDOFF)
	$(BENCH_HANDOFF) $(BENCH_HANDOFF_ARGS)
	@echo
	$(BENCH_HANDOFF) -u $(BENCH_HANDOFF_ARGS)

bench-python: python bench-deps
	$(VPY) bench/python/bench_ring.py
	@echo
	$(VPY) bench/python/bench_lock.py

bench-lock: python bench-deps
	@$(MAKE) --no-print-directory bench-lock-rust
	@echo
	$(PYTHON) bench/report.py --lock $(BENCH_CRITERION)
	@echo
	@$(MAKE) --no-print-directory bench-c
	@echo
	$(VPY) bench/python/bench_lock.py

bench-probe:
	$(BENCH_CARGO) --bench probe -- $(BENCH_TIME) --noplot --output-format bencher $(BENCH_FILTER)

$(BENCH_SHARED_C): bench/c/shared_get.c include/ringlock.h
	@mkdir -p $(dir $@)
	$(CC) $(FFI_CFLAGS) -Iinclude bench/c/shared_get.c $(FFI_LINK_SO) -o $@

bench-shared-rust:
	$(BENCH_CARGO) --bench shared -- $(BENCH_TIME) --noplot --output-format bencher $(BENCH_FILTER)

bench-shared: python lib $(BENCH_SHARED_C)
	@$(MAKE) --no-print-directory bench-shared-rust
	@echo
	$(PYTHON) bench/report_shared.py $(BENCH_CRITERION)
	@echo
	$(BENCH_CARGO) --bench shared_pair
	@echo
	$(BENCH_SHARED_C)
	@echo
	$(VPY) bench/python/bench_shared.py

# libmemcached's header is not -Wpedantic clean; Debian's libmemcached-dev
# and pylibmc are installed when missing (as make test-profiles does)
$(BENCH_PROFILES): bench/c/profiles.c include/ringlock.h
	@mkdir -p $(dir $@)
	bash tests/lib/need-deb.sh libmemcached-dev
	$(CC) $(subst -Wpedantic,,$(FFI_CFLAGS)) -Iinclude bench/c/profiles.c $(FFI_LINK_SO) -lmemcached -o $@

bench-profiles: python lib $(BENCH_PROFILES)
	$(BENCH_PROFILES)
	@echo
	$(VPY) -c "import pylibmc" 2> /dev/null || $(VPY) -m pip install --quiet pylibmc
	$(VPY) bench/python/bench_profiles.py

# one invocation, in this order: Rust benches (ring, lock), their report, the
# C hand-off bench, Python benches (ring, lock), the shared-ring benches
bench: python bench-deps
	@$(MAKE) --no-print-directory bench-rust
	@echo
	@$(MAKE) --no-print-directory bench-report
	@echo
	@$(MAKE) --no-print-directory bench-c
	@echo
	$(VPY) bench/python/bench_ring.py
	@echo
	$(VPY) bench/python/bench_lock.py
	@echo
	@$(MAKE) --no-print-directory bench-shared
	@echo
	@$(MAKE) --no-print-directory bench-profiles
	@echo
	@$(MAKE) --no-print-directory bench-etcd

# the etcd lock beside the raw floor of two transactions (Rust), then the
# hand-off from Python beside tooz's etcd3gw lock, each on one local etcd
# (installs Debian's etcd-server when etcd is missing; docs/distributed.md)
.PHONY: bench-etcd
bench-etcd: python bench-deps
	bash tests/lib/need-etcd.sh
	$(BENCH_CARGO) --bench etcd
	$(BENCH_CARGO) --bench etcd_membership
	@echo
	$(VPY) bench/python/bench_etcd.py

# The pictures (docs/benchmarks.md): data, then SVG. PLOT_KEYS keys for the
# balance and keys-moved curves; PLOT_HANDOFF_ARGS for bench/c/handoff.c.
PLOT_KEYS         ?= 500000
PLOT_HANDOFF_ARGS ?= -r 5
.PHONY: plots plots-redraw test-plots
plots: lib $(BENCH_HANDOFF)
	$(CARGO) build --quiet --release -p ringlock --example plot_data
	$(PYTHON) bench/plots/make_plots.py --out docs/img --keys $(PLOT_KEYS) \
	  --plot-data $(RELEASE)/examples/plot_data --handoff $(BENCH_HANDOFF) \
	  --handoff-args "$(PLOT_HANDOFF_ARGS)"

plots-redraw:
	$(PYTHON) bench/plots/make_plots.py --out docs/img --from-data

test-plots:
	$(PYTHON) bench/plots/test_plots.py
