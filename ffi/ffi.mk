# C face: library, header, C/C++/dlopen examples (rings and locks) and tests, install.
# Included by the top Makefile (which sets CARGO CC CXX PREFIX VENV VPY BUILD RELEASE).

.PHONY: lib header test-c c-examples test-install install

FFI_VERSION := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)
FFI_MAJOR   := $(firstword $(subst ., ,$(FFI_VERSION)))
FFI_SO      := $(RELEASE)/libringlock.so
FFI_A       := $(RELEASE)/libringlock.a
# libringlock.so.$(FFI_MAJOR) -> the cargo-built .so: what the rpath of the
# examples and tests points at (the SONAME is the versioned name)
FFI_LIBDIR  := $(BUILD)/lib
# what libringlock.a needs: `cargo rustc -p ringlock-ffi --release --lib
# --crate-type staticlib -- --print native-static-libs`
FFI_STATIC_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
FFI_CFLAGS   := -std=c11 -Wall -Wextra -Wpedantic -Werror -O2
FFI_CXXFLAGS := -std=c++17 -Wall -Wextra -Wpedantic -Werror -O2
FFI_LINK_SO  := -L$(RELEASE) -lringlock -Wl,-rpath,$(abspath $(FFI_LIBDIR))
FFI_EX       := $(BUILD)/examples

# pkg-config for test-install: the system's, else the PyPI package pkgconf in
# the venv (FFI_NO_SYSTEM_PKG_CONFIG=1 forces the latter).
FFI_PKG_CONFIG := $(if $(FFI_NO_SYSTEM_PKG_CONFIG),,$(shell command -v pkg-config 2>/dev/null))
ifeq ($(FFI_PKG_CONFIG),)
FFI_PKG_CONFIG := $(VENV)/bin/pkgconf
FFI_PKG_CONFIG_DEP := $(VENV)/bin/pkgconf
endif

lib:
	$(CARGO) build --release -p ringlock-ffi
	@mkdir -p $(FFI_LIBDIR)
	@ln -sfn $(abspath $(FFI_SO)) $(FFI_LIBDIR)/libringlock.so.$(FFI_MAJOR)

# include/ringlock.h from ffi/src with the pinned cbindgen; `cargo test`
# (ffi/tests/header.rs) fails while the committed header differs.
header:
	RINGLOCK_BLESS=1 $(CARGO) test -p ringlock-ffi --test header

c-examples: lib
	@mkdir -p $(FFI_EX)
	$(CC) $(FFI_CFLAGS) -Iinclude examples/c/ring.c $(FFI_LINK_SO) -o $(FFI_EX)/ring_c
	$(CC) $(FFI_CFLAGS) -Iinclude examples/c/ring.c $(FFI_A) $(FFI_STATIC_LIBS) -o $(FFI_EX)/ring_c_static
	$(CXX) $(FFI_CXXFLAGS) -Iinclude examples/cpp/ring.cpp $(FFI_LINK_SO) -o $(FFI_EX)/ring_cpp
	$(CC) $(FFI_CFLAGS) -Iinclude examples/dlopen/ring_dlopen.c -ldl -o $(FFI_EX)/ring_dlopen
	$(CC) $(FFI_CFLAGS) -Iinclude examples/c/lock.c $(FFI_LINK_SO) -o $(FFI_EX)/lock_c
	$(CXX) $(FFI_CXXFLAGS) -Iinclude examples/cpp/lock.cpp $(FFI_LINK_SO) -o $(FFI_EX)/lock_cpp
	$(CC) $(FFI_CFLAGS) -Iinclude examples/c/shared_ring.c $(FFI_LINK_SO) -o $(FFI_EX)/shared_ring_c

# The etcd lock tests need an etcd (Debian's etcd-server, installed when
# missing); RINGLOCK_REQUIRE_ETCD makes them fail rather than skip without one.
test-c: c-examples
	bash tests/lib/need-etcd.sh
	RINGLOCK_REQUIRE_ETCD=1 \
	CC="$(CC)" CXX="$(CXX)" RELEASE="$(RELEASE)" BUILD="$(BUILD)" \
	CFLAGS="$(FFI_CFLAGS) -Iinclude" CXXFLAGS="$(FFI_CXXFLAGS) -Iinclude" \
	LINK_SO="$(FFI_LINK_SO)" STATIC_LIBS="$(FFI_STATIC_LIBS)" \
	  bash ffi/tests/run-c-tests.sh

# PREFIX=/some/dir (DESTDIR=... for staging): the versioned .so and its
# links, the .a, both headers, ringlock.pc.
install: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(FFI_SO) $(DESTDIR)$(PREFIX)/lib/libringlock.so.$(FFI_VERSION)
	ln -sfn libringlock.so.$(FFI_VERSION) $(DESTDIR)$(PREFIX)/lib/libringlock.so.$(FFI_MAJOR)
	ln -sfn libringlock.so.$(FFI_MAJOR) $(DESTDIR)$(PREFIX)/lib/libringlock.so
	install -m 644 $(FFI_A) $(DESTDIR)$(PREFIX)/lib/libringlock.a
	install -m 644 include/ringlock.h include/ringlock.hpp $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(abspath $(PREFIX))|g' -e 's|@VERSION@|$(FFI_VERSION)|g' \
	    -e 's|@LIBS_PRIVATE@|$(FFI_STATIC_LIBS)|g' ffi/ringlock.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ringlock.pc

$(VENV)/bin/pkgconf: | venv
	$(VPY) -m pip install --quiet pkgconf

# Installs into a temporary prefix, then builds examples/c/ring.c with
# `pkg-config --cflags --libs ringlock` (shared) and `--static` (static) and
# runs both.
test-install: lib $(FFI_PKG_CONFIG_DEP)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	pkgc="$(abspath $(FFI_PKG_CONFIG))"; \
	$(MAKE) --no-print-directory install PREFIX="$$tmp/prefix" > "$$tmp/install.log" 2>&1 \
	  || { cat "$$tmp/install.log"; exit 1; }; \
	export PKG_CONFIG_PATH="$$tmp/prefix/lib/pkgconfig"; \
	echo "pkg-config: $$pkgc"; \
	cflags=$$("$$pkgc" --cflags ringlock); libs=$$("$$pkgc" --libs ringlock); \
	echo "  --cflags --libs: $$cflags $$libs"; \
	$(CC) $(FFI_CFLAGS) examples/c/ring.c $$cflags $$libs -o "$$tmp/ring"; \
	LD_LIBRARY_PATH="$$tmp/prefix/lib" ldd "$$tmp/ring" > "$$tmp/ldd.txt"; \
	grep -q "$$tmp/prefix/lib/libringlock.so.$(FFI_MAJOR)" "$$tmp/ldd.txt"; \
	LD_LIBRARY_PATH="$$tmp/prefix/lib" "$$tmp/ring" > "$$tmp/shared.txt"; \
	static=$$("$$pkgc" --static --libs-only-l ringlock); static=$${static//-lringlock/}; \
	$(CC) $(FFI_CFLAGS) examples/c/ring.c $$cflags "$$("$$pkgc" --variable=libdir ringlock)/libringlock.a" $$static -o "$$tmp/ring_static"; \
	"$$tmp/ring_static" > "$$tmp/static.txt"; \
	cmp "$$tmp/shared.txt" "$$tmp/static.txt"; \
	test "$$(head -n1 "$$tmp/shared.txt")" = "# ringlock $(FFI_VERSION) placement check"; \
	test -L "$$tmp/prefix/lib/libringlock.so" -a -L "$$tmp/prefix/lib/libringlock.so.$(FFI_MAJOR)"; \
	echo "test-install: installed, built with pkg-config (shared and static), ran: ok"
