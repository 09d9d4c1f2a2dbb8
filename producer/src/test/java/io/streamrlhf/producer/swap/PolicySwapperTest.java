package io.streamrlhf.producer.swap;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.producer.TestPolicies;
import io.streamrlhf.schemas.topics.Topics;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PolicySwapperTest {

    /** A follower that is never started: versions reach it through {@link PolicyFollower#offer} alone. */
    private static PolicyFollower follower(SimpleMeterRegistry meters) {
        Map<String, Object> settings = Map.of("bootstrap.servers", "localhost:1",
                "schema.registry.url", "http://localhost:1");
        return new PolicyFollower(Topics.create(settings), settings, "chat", new CheckpointFetcher(null), meters);
    }

    @Test
    void copiesNewerVersionsInPlaceAndRefusesOnceAVersionOfAnotherShape() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Timer swapTime = Timer.builder("swap").register(meters);
        Counter refused = Counter.builder("refused").register(meters);
        PolicyFollower follower = follower(meters);
        AtomicLong version = new AtomicLong(0);
        PolicySwapper swapper = new PolicySwapper(follower, "w-0", "chat", version, swapTime, refused);
        Checkpoint next = TestPolicies.checkpoint(2);
        try (TransformerPolicy policy = TransformerPolicy.fromCheckpoint(TestPolicies.checkpoint(1))) {
            swapper.followNewest(policy);  // the follower has nothing yet
            assertThat(version).hasValue(0);

            follower.offer("chat", 1, next);
            swapper.followNewest(policy);
            assertThat(version).hasValue(1);
            assertThat(swapTime.count()).isEqualTo(1);
            assertThat(policy.toCheckpoint(Map.of(), null).weightsId()).isEqualTo(next.weightsId());

            swapper.followNewest(policy);  // nothing newer
            assertThat(swapTime.count()).isEqualTo(1);

            TransformerConfig wider = new TransformerConfig(Vocabulary.standard().size(), 32, 64, 1, 2);
            try (TransformerPolicy other = TransformerPolicy.create(wider, 3)) {
                follower.offer("chat", 2, other.toCheckpoint(Map.of(), null));
            }
            swapper.followNewest(policy);
            swapper.followNewest(policy);  // refused once, not retried
            assertThat(version).hasValue(1);
            assertThat(refused.count()).isEqualTo(1);
            assertThat(policy.toCheckpoint(Map.of(), null).weightsId()).isEqualTo(next.weightsId());
        }
    }
}
