#!/usr/bin/env bash
# The bollard-target integration tests (tests/integration/target_*.sh)
# against an AddressSanitizer + LeakSanitizer build in build-asan/: a memory
# error or a leak at exit fails the test. See kernel/user/tools/asan_integration.sh.
cd "$(dirname "$0")/../.."
exec bash kernel/user/tools/asan_integration.sh
