package io.streamrlhf.producer.worker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * Prompts polled and not yet handed to the sampler, in poll order, with the time the oldest of them arrived (a batch
 * is due when its rows fill it or that one has waited long enough). Only the worker's thread touches it.
 */
final class PromptQueue {
    private final Deque<PolledPrompt> prompts = new ArrayDeque<>();
    private long firstArrivedAt;

    /** Appends a polled prompt; the first of an empty queue starts its clock. */
    void add(PolledPrompt prompt, long nowNanos) {
        if (prompts.isEmpty()) {
            firstArrivedAt = nowNanos;
        }
        prompts.add(prompt);
    }

    boolean isEmpty() {
        return prompts.isEmpty();
    }

    /** Sampling rows the queued prompts add up to. */
    int rows() {
        int rows = 0;
        for (PolledPrompt p : prompts) {
            rows += p.rows();
        }
        return rows;
    }

    /** When (of {@link System#nanoTime()}) the batch-wait clock started: the first arrival, or the last batch. */
    long firstArrivedAt() {
        return firstArrivedAt;
    }

    /** Whether a batch is due: the queued rows fill {@code maxRows}, or the clock has run {@code maxWaitNanos}. */
    boolean batchDue(int maxRows, long maxWaitNanos, long nowNanos) {
        return !prompts.isEmpty() && (rows() >= maxRows || nowNanos - firstArrivedAt >= maxWaitNanos);
    }

    /** Takes prompts in arrival order until the next would take the batch past {@code maxRows}; at least one. */
    List<PolledPrompt> takeBatch(int maxRows) {
        List<PolledPrompt> batch = new ArrayList<>();
        int rows = 0;
        while (!prompts.isEmpty()) {
            PolledPrompt next = prompts.peekFirst();
            if (!batch.isEmpty() && rows + next.rows() > maxRows) {
                break;
            }
            batch.add(prompts.pollFirst());
            rows += next.rows();
        }
        return batch;
    }

    /** Restarts the batch-wait clock for the prompts left (a batch was just taken). */
    void restartClock(long nowNanos) {
        firstArrivedAt = nowNanos;
    }

    /** Drops the prompts of partitions this worker no longer owns; their new owner consumes them. */
    void dropPartitions(Set<TopicPartition> revoked) {
        for (Iterator<PolledPrompt> it = prompts.iterator(); it.hasNext(); ) {
            if (revoked.contains(it.next().partition())) {
                it.remove();
            }
        }
    }

    /** Empties the queue, lowering {@code firstOffsets} to each partition's first queued offset (for a rewind). */
    void drainOffsetsInto(Map<TopicPartition, Long> firstOffsets) {
        for (PolledPrompt p : prompts) {
            firstOffsets.merge(p.partition(), p.offset(), Math::min);
        }
        prompts.clear();
    }
}
