# The two commands of the README's quick start. Everything else is CMake presets.
#   make demo   install what is missing, build in Release, run `kinko demo` (three signers, a
#               kinkod, two withdrawals and the 2024 attack refused; README "Quick start")
#   make test   install what is missing, build under ASan+UBSan, run every test

.PHONY: all demo test deps deps-test build format format-check clean

all: test

deps:
	scripts/install-deps

deps-test:
	scripts/install-deps --test

demo: deps
	cmake --preset release
	cmake --build --preset release --target kinko kinko-signer kinkod
	build/release/cli/kinko demo

test: deps-test
	cmake --preset dev
	cmake --build --preset dev
	ctest --preset dev -j $(shell nproc)

format:
	scripts/format

format-check:
	scripts/format --check

clean:
	rm -rf build
