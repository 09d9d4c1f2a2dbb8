package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * {@code rlhf bench failover} on a small run, the active learner a child JVM killed with SIGKILL: the standby takes over
 * within 30 s, no version is lost, delta versions
 * travel in fewer bytes than full ones and a worker swaps each within a second. (The under-half goal on simulated
 * Adam steps is {@code CheckpointDeltaTest}'s.)
 */
class BenchFailoverCommandTest {

    @Test
    void theStandbyTakesOverLosingNoVersionAndDeltasAreAtMostHalfTheFullVersions() throws Exception {
        BenchCommandsTest.Run run = BenchCommandsTest.run("bench", "failover", "--json", "--versions", "6",
                "--session-timeout-ms", "6000", "--seed", "7");

        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(run.lines().get(run.lines().size() - 1));
        assertThat(json.fieldNames()).toIterable().contains("takeover_s", "bytes_per_version",
                "delta_bytes_per_version", "swap_p99_ms", "versions_lost");
        assertThat(json.get("versions_lost").asLong()).isZero();
        assertThat(json.get("versions").asInt()).isEqualTo(6);
        assertThat(json.get("takeover_s").asDouble()).isGreaterThan(0).isLessThan(30);
        // The goal: a delta at most half the full bytes (0.45 to 0.48 in early versions, docs/architecture.md).
        assertThat(json.get("delta_bytes_per_version").asDouble())
                .isPositive().isLessThan(0.5 * json.get("bytes_per_version").asDouble());
        assertThat(json.get("swap_p99_ms").asDouble()).isPositive().isLessThan(1000);
        // the learners share no directory: each version carries the whole learner state, weights and AdamW moments
        assertThat(json.get("state_bytes_per_version").asDouble()).as("state bytes per version")
                .isGreaterThan(2 * json.get("bytes_per_version").asDouble());
    }
}
