package io.streamrlhf.schemas.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** A commit that times out is retried on the same producer; other failures are not. */
class TransactionCommitTest {

    /** A producer whose next {@code timeouts} commits time out before the commit goes through. */
    static final class SlowCommits extends MockProducer<String, String> {
        int timeouts;
        int attempts;

        SlowCommits(int timeouts) {
            super(true, null, new StringSerializer(), new StringSerializer());
            this.timeouts = timeouts;
            initTransactions();
        }

        @Override
        public synchronized void commitTransaction() {
            attempts++;
            if (timeouts > 0) {
                timeouts--;
                throw new TimeoutException("Timeout expired after 60000ms while awaiting EndTxn(true)");
            }
            super.commitTransaction();
        }
    }

    @Test
    void aTimedOutCommitIsRetriedAndCommits() {
        SlowCommits producer = new SlowCommits(2);
        producer.beginTransaction();
        producer.send(new ProducerRecord<>("t", "k", "v"));

        TransactionCommit.commit(producer, "a test batch");

        assertThat(producer.attempts).isEqualTo(3);
        assertThat(producer.transactionCommitted()).isTrue();
        assertThat(producer.transactionAborted()).isFalse();
        assertThat(producer.history()).hasSize(1);
    }

    @Test
    void timeoutsBeyondTheAttemptsAreThrown() {
        SlowCommits producer = new SlowCommits(10);
        producer.beginTransaction();

        assertThatThrownBy(() -> TransactionCommit.commit(producer, "a test batch", 3))
                .isInstanceOf(TimeoutException.class);
        assertThat(producer.attempts).isEqualTo(3);
    }

    @Test
    void aFencedProducerIsNotRetried() {
        SlowCommits producer = new SlowCommits(0);
        producer.beginTransaction();
        producer.fenceProducer();

        assertThatThrownBy(() -> TransactionCommit.commit(producer, "a test batch"))
                .isInstanceOf(ProducerFencedException.class);
        assertThat(producer.attempts).isEqualTo(1);
    }
}
