# ringlock — the two commands: `make demo` and `make test`.
# Also: `make bench`, `make plots`, `make stress`, `make install PREFIX=/some/dir`, `make header`, `make clean`.
#
# Everything is set up from a fresh clone: a .venv with maturin, pytest and
# the reference packages, the release library, the C/C++ examples.

SHELL       := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON  ?= python3
CARGO   ?= cargo
CC      ?= gcc
CXX     ?= g++
PREFIX  ?= /usr/local
VENV    := .venv
VPY     := $(VENV)/bin/python
BUILD   := build
RELEASE := target/release

# pieces owned by each face; each defines its own targets
include ffi/ffi.mk
include python/python.mk
include bench/bench.mk

.PHONY: help demo test test-rust test-etcd watch-bin lint test-cross test-profiles balance demo-lock demo-shared demo-cluster fuzz stress clean

help:
	@echo "make demo     build everything and run the cross-language demo"
	@echo "make test     build everything and run every test (Rust, C, C++, dlopen, Python)"
	@echo "make bench    benchmarks beside the peers, medians and ratios"
	@echo "make plots    the pictures of docs/benchmarks.md (docs/img/*.svg) from fresh data"
	@echo "make install  PREFIX=/some/dir: lib, headers, pkg-config file"
	@echo "make header   regenerate include/ringlock.h with cbindgen"
	@echo "make fuzz     the shared-ring reader fuzz, FUZZ_CASES=N cases"
	@echo "make stress   kill -9 lock stress, STRESS_ROUNDS=N rounds per backend"
	@echo "make demo-cluster  a 3-member etcd, a ring following membership, C and Python sharing an etcd lock"
	@echo "make watch-bin  the host watcher target/release/ringlock-watch (membership ring -> SharedRing)"

# ---- Rust -------------------------------------------------------------------

# the etcd tests run once, in test-etcd, with an etcd installed
test-rust:
	RINGLOCK_SKIP_ETCD=1 $(CARGO) test --workspace

# The etcd lock and membership against real etcd servers on 127.0.0.1
# (core/tests/etcd_lock.rs, etcd_membership.rs); installs Debian's etcd-server
# when etcd is missing. Without etcd the tests would skip;
# RINGLOCK_REQUIRE_ETCD makes them fail instead.
test-etcd:
	bash tests/lib/need-etcd.sh
	RINGLOCK_REQUIRE_ETCD=1 $(CARGO) test -p ringlock --test etcd_lock --test etcd_rwlock --test etcd_membership

# The host watcher: follows a membership ring in etcd into a SharedRing file
# (docs/distributed.md, "Membership").
watch-bin:
	$(CARGO) build --release -p ringlock --bin ringlock-watch
	@echo "built $(RELEASE)/ringlock-watch"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p ringlock-python --all-targets --features abi3 -- -D warnings  # the abi3 build's code paths

# ---- cross-language agreement -------------------------------------------------

CROSS_OUT := $(BUILD)/cross

$(RELEASE)/examples/ring: $(shell find core -name '*.rs') core/Cargo.toml
	$(CARGO) build --release -p ringlock --example ring

# Rust, C, C++, dlopen and Python print the placements of the same keys on the
# same rings; the outputs must be byte-identical.
test-cross: $(RELEASE)/examples/ring c-examples python
	@mkdir -p $(CROSS_OUT)
	$(RELEASE)/examples/ring               > $(CROSS_OUT)/rust.txt
	$(BUILD)/examples/ring_c               > $(CROSS_OUT)/c.txt
	$(BUILD)/examples/ring_c_static        > $(CROSS_OUT)/c_static.txt
	$(BUILD)/examples/ring_cpp             > $(CROSS_OUT)/cpp.txt
	$(BUILD)/examples/ring_dlopen $(abspath $(RELEASE)/libringlock.so) > $(CROSS_OUT)/dlopen.txt
	$(VPY) examples/python/ring.py         > $(CROSS_OUT)/python.txt
	@test -s $(CROSS_OUT)/rust.txt
	@for f in c c_static cpp dlopen python; do \
	  cmp -s $(CROSS_OUT)/rust.txt $(CROSS_OUT)/$$f.txt \
	    || { echo "cross-language mismatch: rust vs $$f"; diff $(CROSS_OUT)/rust.txt $(CROSS_OUT)/$$f.txt | head -20; exit 1; }; \
	done
	@echo "cross-language: rust, c, c (static), c++, dlopen and python agree on $$(wc -l < $(CROSS_OUT)/rust.txt) lines"

# ---- client profiles against the real clients ----------------------------------

# Installs what it lacks (Debian's libmemcached-dev; nginx, nutcracker,
# memcached and haproxy unpacked from their packages) and places keys on many server lists with the real client or
# proxy and with ringlock's profile (tests/profiles/run.sh).
test-profiles: lib python
	CC="$(CC)" RELEASE="$(RELEASE)" BUILD="$(BUILD)" VPY="$(VPY)" \
	CFLAGS="$(FFI_CFLAGS) -Iinclude" LINK_SO="$(FFI_LINK_SO)" \
	  bash tests/profiles/run.sh

# ---- the two commands ---------------------------------------------------------

balance:
	$(CARGO) run --quiet --release -p ringlock --example balance

# 4 C and 4 Python processes increment one counter file under one lock, for
# each backend; the total must be exact.
DEMO_INCREMENTS ?= 2000
demo-lock: c-examples python
	@for backend in shm file; do \
	  dir=$$(mktemp -d); counter="$$dir/counter"; pids=(); \
	  for i in 1 2 3 4; do \
	    $(BUILD)/examples/lock_c demo "$$counter" $(DEMO_INCREMENTS) $$backend "$$dir/locks" > "$$dir/c$$i.out" & pids+=($$!); \
	    $(VPY) examples/python/lock.py demo "$$counter" $(DEMO_INCREMENTS) $$backend "$$dir/locks" > "$$dir/py$$i.out" & pids+=($$!); \
	  done; \
	  for p in "$${pids[@]}"; do wait $$p; done; \
	  total=$$(tr -d ' \n' < "$$counter"); want=$$((8 * $(DEMO_INCREMENTS))); \
	  echo "== lock ($$backend): 4 C + 4 Python processes x $(DEMO_INCREMENTS) increments =="; \
	  cat "$$dir"/c1.out "$$dir"/py1.out; \
	  echo "counter = $$total (expected $$want)"; \
	  rm -rf "$$dir"; test "$$total" = "$$want"; \
	done

# One Python process publishes a shared ring; a C and a Python reader print
# placements, the publisher adds a node, both readers switch to generation 2
# by themselves and print again: the two agree line for line, and every key
# that did not move to the new node kept its owner.
DEMO_SHARED_KEYS := $(foreach i,0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15,key-$(i))
demo-shared: c-examples python
	@dir=$$(mktemp -d); ring="$$dir/ring"; n=$(words $(DEMO_SHARED_KEYS)); \
	echo "== shared ring: one publisher, a C and a Python reader =="; \
	$(VPY) examples/python/shared_ring.py publish "$$ring"; \
	$(BUILD)/examples/shared_ring_c watch "$$ring" 2 $(DEMO_SHARED_KEYS) > "$$dir/c.out" & c=$$!; \
	$(VPY) examples/python/shared_ring.py watch "$$ring" 2 $(DEMO_SHARED_KEYS) > "$$dir/py.out" & p=$$!; \
	for i in $$(seq 3000); do \
	  [[ $$(cat "$$dir/c.out" | wc -l) -ge $$n && $$(cat "$$dir/py.out" | wc -l) -ge $$n ]] && break; sleep 0.01; \
	done; \
	$(VPY) examples/python/shared_ring.py add "$$ring" cache-e; \
	wait $$c; wait $$p; \
	cmp -s "$$dir/c.out" "$$dir/py.out" || { echo "C and Python readers disagree"; diff "$$dir/c.out" "$$dir/py.out"; exit 1; }; \
	paste -d' ' <(head -n $$n "$$dir/c.out") <(tail -n $$n "$$dir/c.out") \
	  | awk '{ printf "  %-7s %-8s -> %-8s %s\n", $$3, $$5, $$10, ($$5 == $$10 ? "" : "(moved)"); \
	           if ($$2 != "1:" || $$7 != "2:") bad = 1; \
	           if ($$5 != $$10 && $$10 != "cache-e") bad = 1; moved += ($$5 != $$10) } \
	         END { printf "C and Python readers agree; %d of %d keys moved, all to cache-e\n", moved, NR; exit bad }'; \
	rm -rf "$$dir"

# A 3-member etcd on 127.0.0.1, 5 members in a ring followed by
# ringlock-watch into a SharedRing, C and Python readers and lock workers (a
# fenced counter under one etcd lock), one member killed: the migration plan
# and the new placements (examples/python/cluster_demo.py).
demo-cluster: c-examples python watch-bin
	@bash tests/lib/need-etcd.sh > /dev/null
	$(VPY) examples/python/cluster_demo.py --bin $(BUILD)/examples --watch $(RELEASE)/ringlock-watch

# The shared-ring reader's bit-flip / truncation fuzz for a long run
# (`cargo test` runs 3,000 cases): FUZZ_CASES=N.
FUZZ_CASES ?= 2000000
fuzz:
	RINGLOCK_FUZZ_CASES=$(FUZZ_CASES) $(CARGO) test --release -p ringlock --lib fuzz_the_reader -- --nocapture

# The kill -9 lock stress (core/tests/lock_stress.rs) with C and Python
# victims and counters beside the Rust ones: STRESS_ROUNDS per backend; the
# table docs/locks.md shows is left in build/stress.txt. (`make test` runs a
# 50-round Rust-only version.)
STRESS_ROUNDS ?= 1000
stress: c-examples python
	@mkdir -p $(BUILD)
	RINGLOCK_STRESS_ROUNDS=$(STRESS_ROUNDS) \
	RINGLOCK_STRESS_C=$(abspath $(BUILD)/examples/lock_c) \
	RINGLOCK_STRESS_PYTHON=$(abspath $(VPY)) \
	RINGLOCK_STRESS_REPORT=$(abspath $(BUILD)/stress.txt) \
	  $(CARGO) test --release -p ringlock --test lock_stress -- --ignored --exact stress --nocapture

demo: test-cross
	@echo
	@echo "== the same ring, five languages (first lines of each) =="
	@for f in rust c cpp dlopen python; do printf '%-7s ' $$f; sed -n 2p $(CROSS_OUT)/$$f.txt; done
	@echo
	@echo "== digests of 10,000 placements per algorithm, per language =="
	@for f in rust c cpp dlopen python; do printf '%-7s ' $$f; grep digest $(CROSS_OUT)/$$f.txt | awk '{sub("fnv1a64=", "", $$NF); printf "%s %s %s  ", $$1, $$2, $$NF}'; echo; done
	@echo
	@$(MAKE) --no-print-directory balance
	@echo
	@$(MAKE) --no-print-directory demo-lock
	@echo
	@$(MAKE) --no-print-directory demo-shared
	@echo
	@echo "Across hosts: make demo-cluster (a 3-member etcd, a ring that follows membership, an etcd lock)"

test: lint test-rust test-etcd test-c test-profiles test-cross test-python test-install test-plots
	@echo
	@echo "make test: all suites passed"

clean:
	$(CARGO) clean
	rm -rf $(BUILD) $(VENV)
