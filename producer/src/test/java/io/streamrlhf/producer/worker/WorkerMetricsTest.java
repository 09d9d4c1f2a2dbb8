package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class WorkerMetricsTest {

    @Test
    void registersTheWorkersMetersUnderTheirNamesTaggedWithPolicyAndWorker() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AtomicLong version = new AtomicLong(7);
        WorkerMetrics metrics = new WorkerMetrics(meters, "chat", "w-1", version);

        assertThat(meters.getMeters()).extracting(m -> m.getId().getName()).containsExactlyInAnyOrder(
                "rlhf.worker.generations", "rlhf.worker.transactions", "rlhf.worker.transactions",
                "rlhf.worker.dlq", "rlhf.worker.swap.refused", "rlhf.worker.batch", "rlhf.worker.sampling",
                "rlhf.worker.commit", "rlhf.worker.revoked", "rlhf.worker.discarded", "rlhf.worker.swap",
                "rlhf.worker.policy.version");
        for (Meter m : meters.getMeters()) {
            assertThat(m.getId().getTag("policy")).isEqualTo("chat");
            assertThat(m.getId().getTag("worker")).isEqualTo("w-1");
        }
        assertThat(meters.get("rlhf.worker.policy.version").gauge().value()).isEqualTo(7.0);
        version.set(8);
        assertThat(meters.get("rlhf.worker.policy.version").gauge().value()).isEqualTo(8.0);
        assertThat(metrics.swapTimer()).isSameAs(meters.get("rlhf.worker.swap").timer());
        assertThat(metrics.swapRefusedCounter()).isSameAs(meters.get("rlhf.worker.swap.refused").counter());
    }

    @Test
    void aCommitCountsItsGenerationsAndTimesTheTransactionAndTheBatch() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        WorkerMetrics metrics = new WorkerMetrics(meters, "chat", "w-1", new AtomicLong());

        metrics.committed(12, 3_000_000, 1_000_000, 5_000_000);
        metrics.aborted();
        metrics.deadLettered("rlhf.prompts", new IllegalArgumentException("bad prompt"));
        metrics.revoked(2);
        metrics.discarded(3);
        metrics.sampled(4_000_000);

        assertThat(metrics.transactionsCommitted()).isEqualTo(1);
        assertThat(metrics.transactionsAborted()).isEqualTo(1);
        assertThat(meters.get("rlhf.worker.transactions").tag("outcome", "committed").counter().count()).isEqualTo(1);
        assertThat(meters.get("rlhf.worker.transactions").tag("outcome", "aborted").counter().count()).isEqualTo(1);
        assertThat(meters.get("rlhf.worker.generations").counter().count()).isEqualTo(12);
        assertThat(meters.get("rlhf.worker.commit").timer().totalTime(TimeUnit.MILLISECONDS)).isEqualTo(2.0);
        assertThat(meters.get("rlhf.worker.batch").timer().totalTime(TimeUnit.MILLISECONDS)).isEqualTo(4.0);
        assertThat(meters.get("rlhf.worker.sampling").timer().totalTime(TimeUnit.MILLISECONDS)).isEqualTo(4.0);
        assertThat(meters.get("rlhf.worker.dlq").counter().count()).isEqualTo(1);
        assertThat(meters.get("rlhf.dlq.records").tag("topic", "rlhf.prompts")
                .tag("error", "IllegalArgumentException").counter().count()).isEqualTo(1);
        assertThat(meters.get("rlhf.worker.revoked").counter().count()).isEqualTo(2);
        assertThat(meters.get("rlhf.worker.discarded").counter().count()).isEqualTo(3);
    }
}
