#!/bin/sh
# Refreshes the screenshots in docs/ui/ from the web interface's
# end-to-end test, which takes them in headless Chromium (every test run
# also keeps them under target/tmp/ui-screenshots/).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-tools.sh --browser
ANCHORAGE_UI_SCREENSHOTS="$PWD/docs/ui" cargo test --locked -q -p anchorage --test web_ui
ls -l docs/ui
