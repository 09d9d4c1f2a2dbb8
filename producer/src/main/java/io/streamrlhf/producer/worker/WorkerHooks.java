package io.streamrlhf.producer.worker;

/**
 * Points inside a worker's pipeline where tests observe or interfere (for example, to close a worker while its
 * generations are sent but not committed, or to let a rebalance start while a sampled batch waits for its commit).
 * Production code uses {@link #NONE}. Both run on the worker's thread (the one that owns the consumer).
 */
interface WorkerHooks {

    /** No-op hooks. */
    WorkerHooks NONE = new WorkerHooks() {
    };

    /**
     * Called when a batch's samples are back from the sampler, before the poll that precedes its transaction (a
     * rebalance seen in that poll revokes partitions from this batch).
     */
    default void afterSampling(PolicyWorker worker, int prompts) {
    }

    /** Called after the batch's generations were sent and flushed, before the offsets and the commit. */
    default void beforeCommit(PolicyWorker worker, int generations) {
    }
}
