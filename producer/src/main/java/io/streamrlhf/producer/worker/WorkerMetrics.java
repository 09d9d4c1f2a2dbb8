package io.streamrlhf.producer.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The meters of one policy worker, all tagged with its policy and worker id: generations, transactions (committed
 * and aborted), dead letters, prompts revoked or discarded, swaps refused, and the batch, sampling, commit and swap
 * timers, plus the gauge of the policy version it serves.
 */
final class WorkerMetrics {
    private final Counter generations;
    private final Counter committed;
    private final Counter aborted;
    private final Counter deadLettered;
    private final Counter swapRefused;
    private final Timer batch;
    private final Timer swap;
    private final Timer sampling;
    private final Timer commit;
    private final Counter revoked;
    private final Counter discarded;
    private final MeterRegistry meters;
    /** The dead letters of every stage, by source topic and error (the reward stream counts in it too). */
    static final String DLQ_RECORDS = "rlhf.dlq.records";

    /**
     * @param version the version the worker's policy holds, read by the {@code rlhf.worker.policy.version} gauge
     *                (held weakly by Micrometer: the caller keeps it)
     */
    WorkerMetrics(MeterRegistry meters, String policy, String worker, AtomicLong version) {
        this.meters = meters;
        this.generations = Counter.builder("rlhf.worker.generations").tag("policy", policy)
                .tag("worker", worker).description("Generations committed").register(meters);
        this.committed = Counter.builder("rlhf.worker.transactions").tag("policy", policy)
                .tag("worker", worker).tag("outcome", "committed").register(meters);
        this.aborted = Counter.builder("rlhf.worker.transactions").tag("policy", policy)
                .tag("worker", worker).tag("outcome", "aborted").register(meters);
        this.deadLettered = Counter.builder("rlhf.worker.dlq").tag("policy", policy).tag("worker", worker)
                .description("Prompts sent to the dead-letter topic").register(meters);
        this.swapRefused = Counter.builder("rlhf.worker.swap.refused").tag("policy", policy)
                .tag("worker", worker).description("Verified versions this worker could not load").register(meters);
        this.batch = Timer.builder("rlhf.worker.batch").tag("policy", policy).tag("worker", worker)
                .description("One batch, from handing it to the sampler to its commit").register(meters);
        this.sampling = Timer.builder("rlhf.worker.sampling").tag("policy", policy).tag("worker", worker)
                .description("Time inside the sampler (the work Kafka adds nothing to)").register(meters);
        this.commit = Timer.builder("rlhf.worker.commit").tag("policy", policy).tag("worker", worker)
                .description("One transaction: sending a sampled batch, its offsets, and the commit (overlaps the "
                        + "next batch's sampling)").register(meters);
        this.revoked = Counter.builder("rlhf.worker.revoked").tag("policy", policy).tag("worker", worker)
                .description("Sampled prompts left uncommitted because their partition was revoked")
                .register(meters);
        this.discarded = Counter.builder("rlhf.worker.discarded").tag("policy", policy).tag("worker", worker)
                .description("Sampled prompts thrown away because the transaction ahead of them aborted")
                .register(meters);
        this.swap = Timer.builder("rlhf.worker.swap").tag("policy", policy).tag("worker", worker)
                .description("Copying a new version's weights into the running policy").register(meters);
        Gauge.builder("rlhf.worker.policy.version", version, AtomicLong::get).tag("policy", policy)
                .tag("worker", worker).register(meters);
    }

    /** A transaction committed {@code generationCount} generations; its batch was prepared at {@code preparedAt}. */
    void committed(int generationCount, long commitStartedAt, long preparedAt, long now) {
        commit.record(now - commitStartedAt, TimeUnit.NANOSECONDS);
        batch.record(now - preparedAt, TimeUnit.NANOSECONDS);
        committed.increment();
        generations.increment(generationCount);
    }

    /** A transaction was aborted. */
    void aborted() {
        aborted.increment();
    }

    /**
     * A prompt of {@code topic} went to its dead-letter topic. Besides this worker's own counter it counts in
     * {@code rlhf.dlq.records}, by topic and error, the counter every stage's dead letters share.
     */
    void deadLettered(String topic, Throwable error) {
        deadLettered.increment();
        Counter.builder(DLQ_RECORDS).description("Records sent to a dead-letter topic").tag("topic", topic)
                .tag("error", error.getClass().getSimpleName()).register(meters).increment();
    }

    /** One sampling call took {@code nanos}. */
    void sampled(long nanos) {
        sampling.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Sampled prompts left uncommitted because their partition was revoked. */
    void revoked(int prompts) {
        revoked.increment(prompts);
    }

    /** Sampled prompts thrown away because the transaction ahead of them aborted. */
    void discarded(int prompts) {
        discarded.increment(prompts);
    }

    /** Times copying a new version into the running policy. */
    Timer swapTimer() {
        return swap;
    }

    /** Counts versions the worker could not load. */
    Counter swapRefusedCounter() {
        return swapRefused;
    }

    long transactionsCommitted() {
        return (long) committed.count();
    }

    long transactionsAborted() {
        return (long) aborted.count();
    }
}
