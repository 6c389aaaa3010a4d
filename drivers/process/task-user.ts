/**
 * Running a task as `task.User` (Nomad's `user` task field), for exec and raw_exec.
 *
 * The name (or uid) is resolved on the host with `id`, to numbers: the drop of privileges
 * then needs no user database where it happens (inside a chroot the host's /etc may not
 * be there). Privileges are dropped by the last program before the task's own: util-linux
 * `setpriv` (uid, gid and supplementary groups, as `--init-groups` would set them), or
 * coreutils `chroot --userspec --groups` when the task gets a chroot. Everything before
 * that (joining cgroups, making namespaces and mounts) still runs as the agent's user.
 */
import { execFile } from 'node:child_process';
import { YurtError } from '../../structs/errors.js';

export interface TaskUser {
  /** As given: a name or a decimal uid. */
  spec: string;
  uid: number;
  gid: number;
  /** Supplementary groups (the user's groups, the primary one included, as `id -G`). */
  groups: number[];
}

/** `id` prints e.g. `uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup),27(sudo)`. */
export function parseIdOutput(spec: string, text: string): TaskUser {
  const uid = /uid=(\d+)/.exec(text)?.[1];
  const gid = /gid=(\d+)/.exec(text)?.[1];
  if (uid === undefined || gid === undefined) throw new YurtError('internal', `cannot parse the output of "id ${spec}": ${text.trim()}`);
  const groupList = /groups=(\S+)/.exec(text)?.[1] ?? '';
  const groups = [...groupList.matchAll(/(\d+)(?:\([^)]*\))?/g)].map((m) => Number(m[1]));
  return { spec, uid: Number(uid), gid: Number(gid), groups: groups.length > 0 ? groups : [Number(gid)] };
}

const SPEC = /^[A-Za-z0-9_][A-Za-z0-9_.@-]*\$?$/;

/**
 * Resolve a user name or uid on this host. An unknown user is the job author's mistake:
 * a clear `invalid_argument` error that fails the start, never a task running as someone else.
 */
export function resolveTaskUser(spec: string): Promise<TaskUser> {
  // `id` would read a leading "-" as an option; no valid user name looks like that anyway.
  if (!SPEC.test(spec)) return Promise.reject(new YurtError('invalid_argument', `task user ${JSON.stringify(spec)} is not a valid user name or uid`));
  return new Promise((resolve, reject) => {
    execFile('id', ['--', spec], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err !== null) {
        const why = String(stderr).trim() || err.message;
        reject(new YurtError('invalid_argument', `task user "${spec}" does not exist on this client (${why})`));
        return;
      }
      try {
        resolve(parseIdOutput(spec, String(stdout)));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

/** The program line that drops to `user` and execs `argv`. */
export function setprivArgv(setpriv: string, user: TaskUser, argv: string[]): string[] {
  return [setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, `--groups=${user.groups.join(',')}`, '--', ...argv];
}

/** The user is the agent's own: nothing to drop, nothing to chown. */
export function isAgentUser(user: TaskUser): boolean {
  return user.uid === process.getuid?.() && user.gid === process.getgid?.();
}
