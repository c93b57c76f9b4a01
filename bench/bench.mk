# Benchmarks: Rust (criterion, beside peer crates) and Python (beside peer
# packages). Included by the top Makefile. (placeholder: being written)

.PHONY: bench

bench:
	@echo "not written yet"; false
