package io.streamrlhf.learner.lease;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;

class LearnerLeaseTest {

    @Test
    void theLeaseConsumerIsNamedAfterThePidSoAnOperatorSeesWhoHoldsIt() {
        Map<String, Object> props = LearnerLease.consumerProperties(Map.of("bootstrap.servers", "localhost:9092",
                ConsumerConfig.CLIENT_ID_CONFIG, "ignored"), "g-lease", 10_000);
        String clientId = (String) props.get(ConsumerConfig.CLIENT_ID_CONFIG);
        assertThat(clientId).isEqualTo("learner-lease-" + ProcessHandle.current().pid());
        assertThat(LearnerLease.pidOf(clientId)).contains(ProcessHandle.current().pid());
        assertThat(props.get(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG)).isEqualTo(10_000);
        assertThat(props.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG)).isEqualTo(10_000);
    }

    @Test
    void otherClientIdsNameNoLearner() {
        assertThat(LearnerLease.pidOf("consumer-g-lease-1")).isEqualTo(Optional.empty());
        assertThat(LearnerLease.pidOf("learner-lease-x")).isEmpty();
        assertThat(LearnerLease.pidOf(null)).isEmpty();
    }
}
