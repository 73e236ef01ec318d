#!/bin/sh
# Stands in for Node.js when CMake found none, so that the tests that need it fail visibly.
echo "node (Node.js) not found: run scripts/install-deps --test" >&2
exit 1
