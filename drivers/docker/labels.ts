/**
 * The labels yurt puts on every container it creates. They are how a restarted agent finds
 * its containers again (recover) and how containers nobody owns any more are recognised
 * (removeOrphans), so their names are part of the on-host contract: do not rename them.
 */

export const LABEL_DRIVER = 'com.yurt.driver';
export const LABEL_ALLOC_ID = 'com.yurt.alloc_id';
export const LABEL_TASK = 'com.yurt.task';
/** TaskConfig.id (`<allocId>/<taskName>`): the key the client tracks tasks by. */
export const LABEL_TASK_ID = 'com.yurt.task_id';
export const LABEL_JOB_ID = 'com.yurt.job_id';
export const LABEL_TASK_GROUP = 'com.yurt.task_group';
/**
 * Which client agent owns the container (DockerDriverOptions.ownerId, the node ID). Several
 * agents may share one Docker engine (a dev cluster on one host); each only ever removes
 * containers carrying its own owner label.
 */
export const LABEL_OWNER = 'com.yurt.owner';

/** Reserved prefix: a job's own `labels` may not use it, so a job cannot forge ownership. */
export const RESERVED_LABEL_PREFIX = 'com.yurt.';

export const DRIVER_NAME = 'docker';
