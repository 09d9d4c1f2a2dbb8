package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code rlhf bench failover}: its JSON line, and delta versions of the demo policy under half the full bytes. */
class BenchFailoverCommandTest {

    @Test
    void printsTheJsonLineWithDeltasUnderHalfTheFullBytes() throws Exception {
        BenchCommandsTest.Run run = BenchCommandsTest.run("bench", "failover", "--json", "--versions", "4",
                "--no-gpt2", "--seed", "7");

        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.lines()).hasSize(1);
        JsonNode json = new ObjectMapper().readTree(run.lines().get(0));
        assertThat(json.fieldNames()).toIterable().contains("takeover_s", "bytes_per_version",
                "delta_bytes_per_version", "swap_p99_ms", "versions_lost");
        assertThat(json.get("delta_bytes_per_version").asDouble())
                .isLessThan(0.5 * json.get("bytes_per_version").asDouble());
        assertThat(json.get("swap_p99_ms").asDouble()).isPositive().isLessThan(1000);
    }
}
