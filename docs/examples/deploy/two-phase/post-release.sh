#!/bin/sh
# Once the new release serves every dyno (run from CI after the deploy, or by hand).
set -eu
heroku run --exit-code --app blog -- flask db upgrade --phase post
