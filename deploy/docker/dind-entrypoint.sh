#!/bin/sh
# PID 1 of a Docker-in-Docker client container. Starts Docker's engine, waits until it answers,
# then runs the yurt agent (arguments as for docker-entrypoint.sh) and starts it again whenever
# it exits, so that the agent process can be restarted (an upgrade, a crash) while the container
# and the tasks' containers in its engine keep running. SIGTERM/SIGINT stop the agent, then the
# engine. The agent's PID is in /run/yurt-agent.pid.
#
# The container needs (no --privileged): --cap-add SYS_ADMIN NET_ADMIN ... (see e2e/README.md),
# --security-opt seccomp=unconfined, --device-cgroup-rule 'a *:* rwm',
# -v /sys/fs/cgroup:/sys/fs/cgroup:rw and --tmpfs /run.
set -u
mkdir -p /run /var/lib/docker /var/log
echo "dind-entrypoint: starting dockerd" >>/var/log/dockerd.log
# vfs works on any filesystem (overlay on overlay does not); no iptables in the container, so
# published ports go through docker-proxy. DOCKERD_ARGS adds flags.
# shellcheck disable=SC2086
dockerd --storage-driver=vfs --iptables=false ${DOCKERD_ARGS:-} >>/var/log/dockerd.log 2>&1 &
dockerd_pid=$!
i=0
until docker info >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -gt 240 ] || ! kill -0 "$dockerd_pid" 2>/dev/null; then
    echo "dind-entrypoint: dockerd did not start:" >&2
    tail -n 40 /var/log/dockerd.log >&2
    exit 1
  fi
  sleep 0.5
done
echo "dind-entrypoint: dockerd is up (pid $dockerd_pid)"

stopping=0
agent_pid=""
# shellcheck disable=SC2317 # invoked by the trap
on_stop() {
  stopping=1
  [ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null
}
trap on_stop TERM INT

while [ "$stopping" = 0 ]; do
  /usr/local/bin/docker-entrypoint.sh "$@" &
  agent_pid=$!
  echo "$agent_pid" >/run/yurt-agent.pid
  # wait returns early when a trapped signal arrives: wait again until the agent is gone.
  while kill -0 "$agent_pid" 2>/dev/null; do wait "$agent_pid"; done
  wait "$agent_pid" 2>/dev/null
  code=$?
  [ "$stopping" = 1 ] && break
  echo "dind-entrypoint: the agent exited ($code); starting it again" >&2
  sleep 1
done
kill -TERM "$dockerd_pid" 2>/dev/null
wait "$dockerd_pid" 2>/dev/null
exit 0
