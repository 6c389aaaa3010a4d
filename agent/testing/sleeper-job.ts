/**
 * The register body (`POST /v1/jobs`) of a one-allocation raw_exec service job that prints
 * `line` and then sleeps: what agent tests run when they need a live allocation to talk to.
 */
export function sleeperJob(id: string, line: string, namespace?: string): { Job: Record<string, unknown> } {
  return {
    Job: {
      ID: id,
      Name: id,
      ...(namespace !== undefined ? { Namespace: namespace } : {}),
      Type: 'service',
      Datacenters: ['dc1'],
      TaskGroups: [
        {
          Name: 'g',
          Count: 1,
          RestartPolicy: { Attempts: 0, Mode: 'fail', Interval: 60e9, Delay: 1e9 },
          Tasks: [{ Name: 't', Driver: 'raw_exec', Config: { command: '/bin/sh', args: ['-c', `echo ${line}; exec sleep 600`] }, Resources: { CPU: 20, MemoryMB: 16 } }],
        },
      ],
    },
  };
}
