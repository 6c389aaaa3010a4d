/**
 * Every metric yurt publishes, in one place. Names follow Nomad's (the same structure with the
 * `yurt_` service prefix where Nomad has `nomad_`), so dashboards and alerts written for Nomad
 * carry over by swapping the prefix. Where Prometheus's conventions and `promtool check metrics`
 * want otherwise, they win and docs/metrics.md names the Nomad original: counters end in
 * `_total`, durations are seconds in snake_case (Nomad's `raft.leader.lastContact` is
 * milliseconds). docs/metrics.md documents each one; a test keeps the page and this table in step.
 */

export type MetricKind = 'gauge' | 'counter' | 'histogram';

export interface MetricDef {
  name: string;
  kind: MetricKind;
  help: string;
  labels: readonly string[];
}

const g = (name: string, help: string, labels: readonly string[] = []): MetricDef => ({ name, kind: 'gauge', help, labels });
const c = (name: string, help: string, labels: readonly string[] = []): MetricDef => ({ name, kind: 'counter', help, labels });
const h = (name: string, help: string, labels: readonly string[] = []): MetricDef => ({ name, kind: 'histogram', help, labels });

const JOB = ['namespace', 'job', 'task_group'] as const;
const NODE = ['node_id', 'datacenter', 'node_class', 'node_pool'] as const;
const ALLOC = ['namespace', 'job', 'task_group', 'task', 'alloc_id'] as const;

export const METRICS = {
  // Jobs (servers, leader's view).
  jobSummaryQueued: g('yurt_nomad_job_summary_queued', 'Allocations of a task group waiting to be placed.', JOB),
  jobSummaryStarting: g('yurt_nomad_job_summary_starting', 'Allocations of a task group placed and starting.', JOB),
  jobSummaryRunning: g('yurt_nomad_job_summary_running', 'Allocations of a task group running.', JOB),
  jobSummaryFailed: g('yurt_nomad_job_summary_failed', 'Allocations of a task group that failed.', JOB),
  jobSummaryComplete: g('yurt_nomad_job_summary_complete', 'Allocations of a task group that completed.', JOB),
  jobSummaryLost: g('yurt_nomad_job_summary_lost', 'Allocations of a task group lost with their node.', JOB),
  jobSummaryUnknown: g('yurt_nomad_job_summary_unknown', 'Allocations of a task group in unknown state.', JOB),
  jobStatusPending: g('yurt_nomad_job_status_pending', 'Jobs in status pending.'),
  jobStatusRunning: g('yurt_nomad_job_status_running', 'Jobs in status running.'),
  jobStatusDead: g('yurt_nomad_job_status_dead', 'Jobs in status dead.'),
  // Scheduling machinery.
  brokerTotalReady: g('yurt_nomad_broker_total_ready', 'Evaluations ready to be scheduled.'),
  brokerTotalUnacked: g('yurt_nomad_broker_total_unacked', 'Evaluations delivered to a worker and not yet acknowledged.'),
  brokerTotalPending: g('yurt_nomad_broker_total_pending', 'Evaluations waiting behind another evaluation of the same job.'),
  brokerTotalWaiting: g('yurt_nomad_broker_total_waiting', 'Evaluations waiting for their WaitUntil time (delayed reschedules).'),
  brokerWaitSeconds: h('yurt_nomad_broker_wait_time_seconds', 'Time an evaluation waited ready in the broker before a worker dequeued it.', ['type']),
  brokerProcessSeconds: h('yurt_nomad_broker_process_time_seconds', 'Time from a worker dequeuing an evaluation to its ack or nack.', ['type']),
  blockedEvalsTotalBlocked: g('yurt_nomad_blocked_evals_total_blocked', 'Evaluations blocked until capacity appears.'),
  heartbeatActive: g('yurt_nomad_heartbeat_active', 'Client heartbeat timers the leader is tracking.'),
  workerInvokeSeconds: h('yurt_nomad_worker_invoke_scheduler_seconds', 'Time a worker spent in the scheduler for one evaluation.', ['type']),
  planQueueDepth: g('yurt_nomad_plan_queue_depth', 'Plans waiting for the leader\'s plan applier.'),
  planEvaluateSeconds: h('yurt_nomad_plan_evaluate_seconds', 'Time to check one plan against the latest state on the leader.'),
  planApplySeconds: h('yurt_nomad_plan_apply_seconds', 'Time to commit one plan\'s changes through Raft on the leader.'),
  planSubmitSeconds: h('yurt_nomad_plan_submit_seconds', 'Time from a plan\'s submission to its result, queueing included.'),
  // Raft.
  raftStateLeader: g('yurt_raft_state_leader', '1 when this server is the Raft leader.'),
  raftStateFollower: g('yurt_raft_state_follower', '1 when this server is a Raft follower.'),
  raftStateCandidate: g('yurt_raft_state_candidate', '1 when this server is a Raft candidate.'),
  raftPeers: g('yurt_raft_peers', 'Servers in the Raft configuration.'),
  raftTerm: g('yurt_raft_term', 'Current Raft term; a climbing term means repeated elections.'),
  raftLastIndex: g('yurt_raft_last_index', 'Index of the last entry in this server\'s Raft log.'),
  raftCommitIndex: g('yurt_raft_commit_index', 'Highest Raft index known committed.'),
  raftAppliedIndex: g('yurt_raft_applied_index', 'Highest Raft index applied to the state machine.'),
  raftLastContact: g('yurt_raft_leader_last_contact_seconds', 'Seconds since this server last heard from the leader (0 on the leader; absent before first contact).'),
  raftApply: c('yurt_raft_apply_total', 'Raft entries applied to the state machine on this server.'),
  raftFsmApplySeconds: c('yurt_raft_fsm_apply_seconds_total', 'Seconds spent applying committed entries to the state machine.'),
  raftCommits: c('yurt_raft_commit_total', 'Commands proposed by this server as leader that were committed and applied (Nomad\'s raft.commitTime count).'),
  raftCommitSeconds: c('yurt_raft_commit_time_seconds_total', 'Seconds from proposal to committed and applied, summed over yurt_raft_commit_total (Nomad\'s raft.commitTime).'),
  raftPersistSeconds: c('yurt_raft_persist_seconds_total', 'Seconds spent waiting for Raft log and state writes to reach the disk.'),
  // Clients.
  clientAllocatedCpu: g('yurt_client_allocated_cpu', 'CPU (MHz) allocated to allocations on this node.', NODE),
  clientAllocatedMemory: g('yurt_client_allocated_memory', 'Memory (MB) allocated to allocations on this node.', NODE),
  clientAllocatedDisk: g('yurt_client_allocated_disk', 'Disk (MB) allocated to allocations on this node.', NODE),
  clientUnallocatedCpu: g('yurt_client_unallocated_cpu', 'CPU (MHz) still free for allocations on this node.', NODE),
  clientUnallocatedMemory: g('yurt_client_unallocated_memory', 'Memory (MB) still free for allocations on this node.', NODE),
  clientUnallocatedDisk: g('yurt_client_unallocated_disk', 'Disk (MB) still free for allocations on this node.', NODE),
  clientAllocationsRunning: g('yurt_client_allocations_running', 'Allocations running on this node.', NODE),
  clientAllocationsPending: g('yurt_client_allocations_pending', 'Allocations starting on this node.', NODE),
  allocCpuPercent: g('yurt_client_allocs_cpu_total_percent', 'CPU a task used over the last sample, in percent of one core.', ALLOC),
  allocCpuAllocated: g('yurt_client_allocs_cpu_allocated', 'CPU (MHz) allocated to a task.', ALLOC),
  allocMemoryRss: g('yurt_client_allocs_memory_rss', 'Resident memory of a task, in bytes.', ALLOC),
  allocMemoryAllocated: g('yurt_client_allocs_memory_allocated', 'Memory allocated to a task, in bytes.', ALLOC),
  allocRestarts: c('yurt_client_allocs_restart_total', 'Restarts of a task.', ALLOC),
  allocOomKilled: c('yurt_client_allocs_oom_killed_total', 'OOM kills of a task.', ALLOC),
  // Runtime.
  runtimeHeapUsed: g('yurt_runtime_heap_used_bytes', 'V8 heap in use.'),
  runtimeRss: g('yurt_runtime_rss_bytes', 'Resident set size of the agent process.'),
  runtimeEventLoopLag: g('yurt_runtime_event_loop_lag_seconds', 'Event loop delay (p99 over the last collection interval).'),
  runtimeGcPause: h('yurt_runtime_gc_pause_seconds', 'Duration of one garbage collection pause of the V8 heap.'),
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;
