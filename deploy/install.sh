#!/usr/bin/env bash
# Installs yurt from this checkout and sets the host up as a server or a client:
#   - copies the checkout to PREFIX/opt/yurt, installs its npm dependencies, compiles it and
#     drops the development dependencies (the old install is replaced only once the new one
#     is complete, so a failed upgrade leaves the running version alone);
#   - writes the agent config PREFIX/etc/yurt.d/10-install.hcl for the role;
#   - writes the systemd unit PREFIX/etc/systemd/system/yurt-ROLE.service and, unless
#     --no-systemd, creates the "yurt" user and enables and starts the unit.
#
# Usage:
#   deploy/install.sh --server [--servers a,b,c] [--bootstrap-expect N] [options]
#   deploy/install.sh --client --servers a:4647,b:4647,c:4647 [options]
# Options:
#   --servers LIST        server: the peers to retry_join (defaults bootstrap_expect to their
#                         count); client: the servers to register with
#   --bootstrap-expect N  server: servers to wait for before the first election
#   --data-dir DIR        agent state (default /var/lib/yurt)
#   --datacenter DC       default dc1
#   --region REGION       default global
#   --node-class CLASS    client: node class for constraints
#   --prefix DIR          install below DIR instead of / (for images and tests)
#   --no-systemd          do not create users or touch systemd (implied by --prefix)
#   --config-only         rewrite the config and unit of an existing install, nothing else
#   --source DIR          the yurt source tree to install (default: the checkout holding
#                         this script)
set -euo pipefail

die() { echo "install.sh: $*" >&2; exit 2; }

role=""
servers=""
bootstrap_expect=""
data_dir="/var/lib/yurt"
datacenter="dc1"
region="global"
node_class=""
prefix=""
use_systemd=1
config_only=0
src="$(cd "$(dirname "$0")/.." && pwd)"

while [ $# -gt 0 ]; do
  case "$1" in
    --server) role=server; shift ;;
    --client) role=client; shift ;;
    --servers|--retry-join) servers="${2:?$1 needs a value}"; shift 2 ;;
    --bootstrap-expect) bootstrap_expect="${2:?$1 needs a value}"; shift 2 ;;
    --data-dir) data_dir="${2:?$1 needs a value}"; shift 2 ;;
    --datacenter) datacenter="${2:?$1 needs a value}"; shift 2 ;;
    --region) region="${2:?$1 needs a value}"; shift 2 ;;
    --node-class) node_class="${2:?$1 needs a value}"; shift 2 ;;
    --prefix) prefix="${2:?$1 needs a value}"; use_systemd=0; shift 2 ;;
    --no-systemd) use_systemd=0; shift ;;
    --config-only) config_only=1; shift ;;
    --source) src="${2:?$1 needs a value}"; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[ -n "$role" ] || die "give --server or --client"
[ "$role" = server ] || [ -z "$bootstrap_expect" ] || die "--bootstrap-expect is for --server"
[ "$role" = client ] || [ -z "$node_class" ] || die "--node-class is for --client"
[ "$role" = server ] || [ -n "$servers" ] || die "--client needs --servers host:port,..."
case "$data_dir" in /*) ;; *) die "--data-dir must be an absolute path, got: $data_dir" ;; esac
if [ -n "$prefix" ]; then
  mkdir -p "$prefix"
  prefix="$(cd "$prefix" && pwd)"
fi
# Values go into HCL strings: refuse what would need escaping rather than write a broken file.
for v in "$servers" "$data_dir" "$datacenter" "$region" "$node_class"; do
  case "$v" in *'"'*|*\\*|*'$'*|*$'\n'*) die "value contains a character not allowed here: $v" ;; esac
done

IFS=',' read -r -a server_list <<<"$servers"
if [ "$role" = server ] && [ -z "$bootstrap_expect" ]; then
  bootstrap_expect=$(( ${#server_list[@]} > 0 ? ${#server_list[@]} : 1 ))
fi
case "$bootstrap_expect" in ''|*[!0-9]*) [ "$role" = client ] || die "--bootstrap-expect must be a number" ;; esac

node_bin="$(command -v node || true)"
[ -n "$node_bin" ] || die "Node.js 20.19 or newer is required (https://nodejs.org or your distribution)"
node_major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js 20.19 or newer is required, found $("$node_bin" --version)"
command -v npm >/dev/null || die "npm is required to install yurt's dependencies"

if [ ! -f "$src/package.json" ] || [ ! -f "$src/bin/yurt.js" ]; then die "not a yurt source tree: $src"; fi
src="$(cd "$src" && pwd)"
unit_src="$(cd "$(dirname "$0")" && pwd)/systemd"
dest="$prefix/opt/yurt"
conf_dir="$prefix/etc/yurt.d"
unit_dir="$prefix/etc/systemd/system"
unit="yurt-$role.service"

if [ "$config_only" = 1 ]; then
  echo "==> keeping the installed yurt in $dest"
else
  echo "==> installing yurt from $src to $dest"
  mkdir -p "$(dirname "$dest")"
  stage="$(mktemp -d "$dest.new.XXXXXX")"
  trap 'rm -rf "$stage"' EXIT
  tar -C "$src" --exclude=./node_modules --exclude=./dist --exclude=./.git --exclude=./.tmp -cf - . | tar -C "$stage" -xf -
  (
    cd "$stage"
    # Dependencies' install scripts are not needed (lmdb and msgpackr ship prebuilt binaries);
    # the full install brings TypeScript for the build, prune then drops it.
    npm install --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null
    npm run --silent build
    npm prune --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  )
  chmod 755 "$stage"
  if [ -e "$dest" ]; then
    mv "$dest" "$dest.old.$$"
    mv "$stage" "$dest"
    rm -rf "$dest.old.$$"
  else
    mv "$stage" "$dest"
  fi
  trap - EXIT
fi

echo "==> writing $conf_dir/10-install.hcl"
mkdir -p "$conf_dir"
hcl_list() { # a,b,c -> "a", "b", "c"
  local out="" item
  for item in "$@"; do
    [ -n "$item" ] || continue
    out+="${out:+, }\"$item\""
  done
  printf '%s' "$out"
}
{
  echo "# Written by deploy/install.sh --$role; files sorting after this one override it."
  echo "data_dir   = \"$data_dir\""
  echo "bind_addr  = \"0.0.0.0\""
  echo "region     = \"$region\""
  echo "datacenter = \"$datacenter\""
  echo
  if [ "$role" = server ]; then
    echo "server {"
    echo "  enabled          = true"
    echo "  bootstrap_expect = $bootstrap_expect"
    if [ ${#server_list[@]} -gt 0 ]; then
      echo "  server_join {"
      echo "    retry_join = [$(hcl_list "${server_list[@]}")]"
      echo "  }"
    fi
    echo "}"
  else
    echo "client {"
    echo "  enabled = true"
    echo "  servers = [$(hcl_list "${server_list[@]}")]"
    [ -z "$node_class" ] || echo "  node_class = \"$node_class\""
    echo "}"
  fi
  echo
  echo "telemetry {"
  echo "  prometheus_metrics         = true"
  echo "  publish_allocation_metrics = true"
  echo "  publish_node_metrics       = true"
  echo "}"
} >"$conf_dir/10-install.hcl"

echo "==> writing $unit_dir/$unit"
mkdir -p "$unit_dir"
sed -e "s#^ExecStart=.*#ExecStart=$node_bin $dest/bin/yurt.js agent -config $conf_dir#" \
  "$unit_src/$unit" >"$unit_dir/$unit"
if [ "$data_dir" != /var/lib/yurt ]; then
  # The unit's sandbox makes the file system read-only except for its StateDirectory.
  sed -i -e "s#^StateDirectoryMode=.*#&\nReadWritePaths=$data_dir#" "$unit_dir/$unit"
fi

if [ "$use_systemd" = 0 ]; then
  mkdir -p "$prefix$data_dir"
  echo "==> done (no systemd): run $node_bin $dest/bin/yurt.js agent -config $conf_dir"
  exit 0
fi

if [ "$role" = server ] && ! id yurt >/dev/null 2>&1; then
  useradd --system --user-group --home-dir "$data_dir" --no-create-home --shell /usr/sbin/nologin yurt
fi
install -d -m 0700 "$data_dir"
[ "$role" = client ] || chown yurt:yurt "$data_dir"
systemctl daemon-reload
systemctl enable --now "$unit"
echo "==> $unit enabled and started"
