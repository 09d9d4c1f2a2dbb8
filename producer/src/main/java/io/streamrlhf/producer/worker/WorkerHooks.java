package io.streamrlhf.producer.worker;

/**
 * Points inside a worker's transaction where tests observe or interfere (for example, to close a worker while its
 * generations are sent but not committed). Production code uses {@link #NONE}.
 */
interface WorkerHooks {

    /** No-op hooks. */
    WorkerHooks NONE = new WorkerHooks() {
    };

    /** Called after the batch's generations were sent and flushed, before the offsets and the commit. */
    default void beforeCommit(PolicyWorker worker, int generations) {
    }
}
