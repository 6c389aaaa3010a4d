#!/usr/bin/env bash
# Builds the yurt container image without any image registry (none is reachable where yurt
# is built and tested). Two steps:
#   1. a base image imported from a rootfs made on this host: Debian's static busybox as the
#      userland, plus /usr/bin/node and exactly the shared libraries it and the native addons
#      in node_modules link against (found with ldd). This takes seconds, where debootstrap of
#      a Debian minbase takes ~40 s and needs the apt mirror;
#   2. deploy/docker/Dockerfile on top of it, adding the checkout's sources compiled afresh
#      (never a dist/ left over from an older checkout), bin/ and the production node_modules
#      (pruned offline from the checkout's own node_modules).
# With --dind-tag, a third image for client nodes that run the docker driver inside a container:
# the yurt image plus Docker's engine (dockerd, containerd, runc, docker-proxy, the docker CLI)
# and the GNU/util-linux tools the exec driver's isolation needs (busybox's chroot has no
# --userspec), all copied from this host with their shared libraries (Dockerfile.dind).
#
# Usage: deploy/docker/build-image.sh [--tag yurt:latest] [--base-tag yurt-base:latest]
#          [--dind-tag yurt-dind:latest] [--allow-type-errors]
set -euo pipefail

tag="yurt:latest"
base_tag="yurt-base:latest"
dind_tag=""
allow_type_errors=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --base-tag) base_tag="${2:?--base-tag needs a value}"; shift 2 ;;
    --dind-tag) dind_tag="${2:?--dind-tag needs a value}"; shift 2 ;;
    # tsc still emits JavaScript when types do not check; for trying a work in progress only.
    --allow-type-errors) allow_type_errors=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
node_bin="$(command -v node)"
busybox_bin="${BUSYBOX:-/bin/busybox}"

command -v docker >/dev/null || { echo "build-image.sh: docker is not installed" >&2; exit 1; }
[ -x "$busybox_bin" ] || { echo "build-image.sh: $busybox_bin missing (apt-get install busybox-static)" >&2; exit 1; }
# A dynamically linked busybox would need its own libraries in the image; Debian's
# busybox-static is not, so refuse anything else early rather than ship a broken image.
if ldd "$busybox_bin" >/dev/null 2>&1; then
  echo "build-image.sh: $busybox_bin is dynamically linked; install busybox-static" >&2; exit 1
fi
[ -d "$repo/node_modules" ] || { echo "build-image.sh: run npm install in $repo first" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "==> app: compiled sources, bin and production node_modules"
app="$work/context/app"
mkdir -p "$app"
if ! (cd "$repo" && node_modules/.bin/tsc -p tsconfig.build.json --outDir "$app/dist" >"$work/tsc.log" 2>&1); then
  if [ "$allow_type_errors" = 1 ] && [ -f "$app/dist/agent/main.js" ]; then
    echo "build-image.sh: warning: type errors (--allow-type-errors):" >&2; head -n 20 "$work/tsc.log" >&2
  else
    cat "$work/tsc.log" >&2; echo "build-image.sh: the sources do not compile" >&2; exit 1
  fi
fi
cp -a "$repo/bin" "$repo/package.json" "$repo/package-lock.json" "$app/"
cp -a "$repo/node_modules" "$app/node_modules"
# prune works from the lockfile and what is on disk: no registry access.
(cd "$app" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
find "$app/dist" -name '*.map' -delete

echo "==> base rootfs: busybox + node + its shared libraries"
root="$work/rootfs"
mkdir -p "$root"/{bin,usr/bin,usr/local/bin,etc,tmp,root,var/lib/yurt,etc/yurt.d}
chmod 1777 "$root/tmp"
cp "$busybox_bin" "$root/bin/busybox"
for applet in $("$busybox_bin" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
ln -s /bin/env "$root/usr/bin/env"
cp "$node_bin" "$root/usr/bin/node"

copy_libs() { # copies every library ldd lists for $1, at the same path, plus the loader
  # ldd fails on addons built for musl, which node never loads here: they need nothing.
  { ldd "$1" 2>/dev/null || true; } | awk '/=> \//{print $3} /^[ \t]*\/lib/{print $1}' | while read -r lib; do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}
copy_libs "$node_bin"
while IFS= read -r -d '' addon; do copy_libs "$addon"; done \
  < <(find "$app/node_modules" -name '*.node' -print0)

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
yurt:x:990:990:yurt:/var/lib/yurt:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
yurt:x:990:
nogroup:x:65534:
GROUP
# glibc reads this for getaddrinfo; compose's service names resolve through Docker's DNS.
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"

tar -C "$root" -c . | docker import -m "yurt base: busybox + node $("$node_bin" --version)" - "$base_tag" >/dev/null

echo "==> image $tag"
cp "$here/Dockerfile" "$here/docker-entrypoint.sh" "$here/agent.hcl" "$work/context/"
# The legacy builder prints a deprecation notice on every build: keep the log for failures.
if ! docker build -q --build-arg "BASE=$base_tag" -t "$tag" "$work/context" >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2; exit 1
fi
echo "built $tag"

[ -n "$dind_tag" ] || exit 0
echo "==> image $dind_tag: $tag + Docker engine + exec driver tools"
dind="$work/dind"
root="$dind/root"
mkdir -p "$root/usr/local/bin" "$root/etc/docker" "$root/var/lib/docker"
# Docker's engine as Debian's docker.io installs it. The CLI may come from elsewhere on PATH.
for b in dockerd containerd containerd-shim-runc-v2 runc docker-proxy docker \
         chroot id unshare setsid setpriv mount umount nsenter; do
  src="$(command -v "$b" || true)"
  [ -n "$src" ] || { echo "build-image.sh: $b not found (apt-get install docker.io util-linux coreutils)" >&2; exit 1; }
  # In /usr/local/bin they come first on PATH, ahead of busybox's applets of the same name.
  cp -L "$src" "$root/usr/local/bin/$b"
  copy_libs "$src"
done
cp "$here/Dockerfile.dind" "$here/dind-entrypoint.sh" "$dind/"
if ! docker build -q --build-arg "BASE=$tag" -f "$dind/Dockerfile.dind" -t "$dind_tag" "$dind" >"$work/build-dind.log" 2>&1; then
  cat "$work/build-dind.log" >&2; exit 1
fi
echo "built $dind_tag"
