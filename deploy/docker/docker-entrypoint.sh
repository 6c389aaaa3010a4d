#!/bin/sh
# Runs `yurt agent` when the arguments are agent flags (`docker run yurt -dev`), and any other
# yurt command as given (`docker run yurt version`), as HashiCorp's Nomad image does.
set -e
case "${1:-}" in
  -*) set -- yurt agent "$@" ;;
  '') set -- yurt agent -dev -config /etc/yurt.d ;;
  yurt) ;;
  *) set -- yurt "$@" ;;
esac
exec "$@"
