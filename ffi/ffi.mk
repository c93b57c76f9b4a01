# C face: library, header, C/C++/dlopen examples and tests, install.
# Included by the top Makefile. (placeholder: being written)

.PHONY: lib header test-c c-examples test-install install

lib:
	$(CARGO) build --release -p ringlock-ffi

header:
	@echo "not written yet"; false

c-examples: lib
	@echo "not written yet"; false

test-c: c-examples
	@echo "not written yet"; false

test-install: lib
	@echo "not written yet"; false

install: lib
	@echo "not written yet"; false
