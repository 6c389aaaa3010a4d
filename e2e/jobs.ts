/**
 * The job files the scenarios submit, in HCL as users write them. Each job name starts with
 * "e2e-" and carries the scenario's number, so that a leftover is easy to trace.
 */
export interface TaskSpec {
  driver: 'docker' | 'exec' | 'wasi';
  /** The task's config block body, HCL. */
  config: string;
  env?: Record<string, string>;
  cpu?: number;
  memoryMB?: number;
}

export interface JobSpec {
  id: string;
  type: 'service' | 'batch' | 'system';
  count?: number;
  /** Extra HCL inside the group (network, update, constraint, restart ...). */
  group?: string;
  /** Extra HCL at job level. */
  job?: string;
  task: TaskSpec;
}

export function jobHcl(j: JobSpec): string {
  const env = Object.entries(j.task.env ?? {})
    .map(([k, v]) => `        ${k} = ${JSON.stringify(v)}\n`)
    .join('');
  return `job "${j.id}" {
  datacenters = ["dc1"]
  type        = "${j.type}"
${indent(j.job ?? '', 2)}
  group "g" {
${j.count !== undefined ? `    count = ${j.count}\n` : ''}${indent(j.group ?? '', 4)}
    task "t" {
      driver = "${j.task.driver}"
      config {
${indent(j.task.config, 8)}
      }
${env ? `      env {\n${env}      }\n` : ''}      resources {
        cpu    = ${j.task.cpu ?? 50}
        memory = ${j.task.memoryMB ?? 32}
      }
    }
  }
}
`;
}

/** A docker task that stays up: sh prints a line, then sleeps in the foreground. */
export function dockerSleeper(image: string, hello = 'up'): TaskSpec {
  return {
    driver: 'docker',
    config: `image   = "${image}"\ncommand = "/bin/sh"\nargs    = ["-c", "echo ${hello} $NOMAD_ALLOC_ID; exec sleep 3600"]`,
  };
}

/** An exec task that stays up (busybox sh and sleep from the client's chroot). */
export function execSleeper(line = 'started'): TaskSpec {
  return {
    driver: 'exec',
    config: `command = "/bin/sh"\nargs    = ["-c", "echo ${line} $$; exec sleep 3600"]`,
  };
}

/** A restart block that fails fast: a broken task should fail the scenario, not retry for minutes. */
export const FAIL_FAST = `restart {
  attempts = 0
  mode     = "fail"
}
reschedule {
  attempts  = 0
  unlimited = false
}`;

function indent(s: string, n: number): string {
  if (s.trim() === '') return '';
  const pad = ' '.repeat(n);
  return s
    .split('\n')
    .map((l) => (l === '' ? l : pad + l))
    .join('\n');
}
