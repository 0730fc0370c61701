#!/bin/sh
# A rolling deploy in two phases, for any container platform.
set -eu

# 1. Before the new release starts: what the running release survives.
flask db upgrade --phase pre
# The gate: nothing the new release needs is still pending.
flask db status --check --phase pre

# 2. Roll out the new release, and wait until no old instance serves.
$ROLL_OUT

# 3. The old release is gone: drops and the ends of renames.
flask db upgrade --phase post
