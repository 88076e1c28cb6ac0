#!/usr/bin/env bash
# Adds QuantLaunch to the desktop menu of the current user (Linux), pointing at a built bundle.
# Usage: packaging/install-desktop.sh [BUNDLE_DIR]   (default: dist/quantlaunch)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bundle="$(cd "${1:-$here/../dist/quantlaunch}" && pwd)"
[ -x "$bundle/quantlaunch" ] || { echo "no bundle at $bundle (run: make bundle)" >&2; exit 1; }
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
mkdir -p "$apps" "$icons"
cp "$here/quantlaunch.png" "$icons/quantlaunch.png"
sed "s|^Exec=quantlaunch|Exec=\"$bundle/quantlaunch\"|" "$here/quantlaunch.desktop" > "$apps/quantlaunch.desktop"
echo "Installed $apps/quantlaunch.desktop"
