# The two commands of the README's quick start. Everything else is CMake presets.
#   make demo   install what is missing, build in Release, run `kinko demo` (three signers, a
#               kinkod, two withdrawals and the 2024 attack refused; README "Quick start")
#   make test   install what is missing, build under ASan+UBSan (clang, the fuzz preset), run
#               every test

.PHONY: all demo test deps deps-test build format format-check asan clean

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
	cmake --preset fuzz
	cmake --build --preset fuzz
	ctest --preset fuzz -j $(shell nproc)

asan: deps-test
	cmake --preset asan
	cmake --build --preset asan
	ctest --preset asan -j $(shell nproc)

format:
	scripts/format

format-check:
	scripts/format --check

clean:
	rm -rf build
