package io.streamrlhf.schemas.topics;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a producer's open transaction the way Kafka asks: a {@link TimeoutException} from
 * {@code commitTransaction} means the outcome is not known yet, and the same call on the same producer is to be
 * retried (it completes the commit already under way). Aborting instead would throw away a transaction that may
 * well commit, and redo its work. Other failures go to the caller unchanged.
 */
public final class TransactionCommit {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionCommit.class);

    /** Attempts of {@link #commit(Producer, String)}: each may block up to the producer's {@code max.block.ms}. */
    public static final int ATTEMPTS = 5;

    private TransactionCommit() {
    }

    /** Commits, retrying timeouts up to {@link #ATTEMPTS} times in all; {@code what} names the transaction in logs. */
    public static void commit(Producer<?, ?> producer, String what) {
        commit(producer, what, ATTEMPTS);
    }

    /**
     * Commits, retrying timeouts up to {@code attempts} times in all.
     *
     * @throws TimeoutException the last timeout when every attempt timed out
     */
    public static void commit(Producer<?, ?> producer, String what, int attempts) {
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts must be at least 1, got " + attempts);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                producer.commitTransaction();
                if (attempt > 1) {
                    LOG.info("commit of {} succeeded on attempt {}", what, attempt);
                }
                return;
            } catch (TimeoutException e) {
                if (attempt >= attempts) {
                    throw e;
                }
                LOG.warn("commit of {} timed out (attempt {} of {}); retrying the commit, as Kafka asks: {}", what,
                        attempt, attempts, e.getMessage());
            }
        }
    }
}
