# Python face: the .venv, the package, its tests. Included by the top Makefile.

.PHONY: venv python test-python stub-docs

$(VENV)/.stamp: python/requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r python/requirements-test.txt
	touch $@

venv: $(VENV)/.stamp

# pip install ./python, as a user would (maturin from the venv, no isolation
# so no second download of maturin). maturin's PEP 517 hook runs `maturin`
# from PATH, hence the venv's bin first.
python: venv
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VPY) -m pip install --quiet --no-build-isolation ./python

# c-examples: the lock tests run build/examples/lock_c beside
# examples/python/lock.py on one counter. The etcd tests (test_lock_etcd.py,
# test_membership.py) start their own etcd servers: need-etcd.sh installs
# etcd when it is missing, and RINGLOCK_REQUIRE_ETCD makes them fail rather
# than skip without it.
test-python: python c-examples
	bash tests/lib/need-etcd.sh
	RINGLOCK_REQUIRE_ETCD=1 $(VPY) -m pytest -q python/tests

# The stub's docstrings are copies of the native module's (written in Rust):
# rewrite them after changing a doc comment; python/tests/test_docstrings.py
# fails while they differ.
stub-docs: python
	$(VPY) python/tools/stub_docs.py
