import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { YurtError } from '../../structs/errors.js';
import { parseIdOutput, resolveTaskUser, setprivArgv } from './task-user.js';

void describe('task user', () => {
  void it('parses id output, supplementary groups included', () => {
    assert.deepEqual(parseIdOutput('app', 'uid=1001(app) gid=1002(app) groups=1002(app),27(sudo),100(users)\n'), {
      spec: 'app', uid: 1001, gid: 1002, groups: [1002, 27, 100],
    });
    assert.throws(() => parseIdOutput('x', 'garbage'), YurtError);
  });

  void it('resolves root by name and by uid; an unknown or malformed user is a user error', async () => {
    assert.deepEqual(await resolveTaskUser('root'), { spec: 'root', uid: 0, gid: 0, groups: [0] });
    assert.equal((await resolveTaskUser('0')).uid, 0);
    await assert.rejects(resolveTaskUser('no-such-user-yurt'), (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument' && /does not exist/.test(e.message));
    await assert.rejects(resolveTaskUser('--help'), /not a valid user name/);
    await assert.rejects(resolveTaskUser(''), /not a valid user name/);
  });

  void it('drops uid, gid and groups with setpriv before the program', () => {
    assert.deepEqual(setprivArgv('/usr/bin/setpriv', { spec: 'app', uid: 5, gid: 6, groups: [6, 7] }, ['/bin/true', 'x']), [
      '/usr/bin/setpriv', '--reuid=5', '--regid=6', '--groups=6,7', '--', '/bin/true', 'x',
    ]);
  });
});
