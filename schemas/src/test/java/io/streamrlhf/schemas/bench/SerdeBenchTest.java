package io.streamrlhf.schemas.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Keeps the serde's speed in view: a 40-token Generation round trip must stay far from being a bottleneck. */
class SerdeBenchTest {
    private static final Logger log = LoggerFactory.getLogger(SerdeBenchTest.class);

    @Test
    void fortyTokenGenerationRoundTripsAtLeastTenThousandTimesASecond() {
        SerdeBench.Result result = SerdeBench.run(new SerdeBench.Parameters(40, 20_000, 50_000));
        log.info("Serde throughput: {}", result);

        // 16 prompt and 40 response token ids, 40 float log-probs (160 bytes), ~310 bytes of response text, ids.
        assertThat(result.bytesPerRecord()).isBetween(600, 800);
        // Measured 30-40k/s in this short run and ~170k/s in steady state (rlhf bench serde) on 2 shared, busy
        // cores; the floor only catches an order-of-magnitude regression.
        assertThat(result.recordsPerSecond()).isGreaterThan(10_000);
    }

    @Test
    void theJsonLineCarriesTheMeasuredFiguresRounded() throws Exception {
        SerdeBench.Result result = new SerdeBench.Result(40, 200_000, 1.23456, 709);

        JsonNode json = new ObjectMapper().readTree(result.toJson());

        assertThat(json.get("records_per_s").asDouble()).isEqualTo(162_001.0);  // 200,000 / 1.23456, one decimal
        assertThat(json.get("bytes_per_record").asInt()).isEqualTo(709);
        assertThat(json.get("records").asLong()).isEqualTo(200_000);
        assertThat(json.get("seconds").asDouble()).isEqualTo(1.235);
        assertThat(json.get("response_tokens").asInt()).isEqualTo(40);
        assertThat(result.summary()).isEqualTo("Generation with 40 response tokens: 200,000 records in 1.23 s: "
                + "162,001 records/s (serialize+deserialize), 709 bytes/record");
    }

    @Test
    void parametersOutOfRangeAreRefusedByName() {
        assertThatThrownBy(() -> new SerdeBench.Parameters(40, 0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("records must be >= 1, got 0");
        assertThatThrownBy(() -> new SerdeBench.Parameters(-1, 0, 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("responseTokens");
        assertThatThrownBy(() -> new SerdeBench.Parameters(40, -5, 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("warmup");
        assertThat(SerdeBench.Parameters.of(200_000, 40)).isEqualTo(new SerdeBench.Parameters(40, 50_000, 200_000));
    }
}
