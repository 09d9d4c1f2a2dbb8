package io.streamrlhf.producer.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The worker bench's figures from measured totals, and the parameters it refuses. */
class WorkerBenchTest {

    private static final WorkerBench.Parameters PARAMETERS = new WorkerBench.Parameters(300, 3, 8, 4, 32, 32, 20, 1);

    @Test
    void theJsonLineIsFormedFromTheMeasuredTotalsWithTheKeysOtherToolsRead() throws Exception {
        // 1,200 generations in 10 s through Kafka, 2,400 in 16 s alone; the sampler was busy 8 of the 10 s.
        WorkerBench.Result r = new WorkerBench.Result(PARAMETERS, 1_200, 10.0, 2_400, 16.0, 1_000, 8.0, 41.25, 73.5,
                List.of(0.9, 0.7, 0.8), List.of(300.0, 100.0, 200.0, 400.0));

        String line = r.toJson();
        JsonNode json = new ObjectMapper().readTree(line);

        List<String> keys = new ArrayList<>();
        json.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactly("generations_per_s", "sampling_only_per_s", "ratio", "swap_p99_ms",
                "swap_p50_ms", "swaps", "batch", "samples", "max_new_tokens", "prompts", "rounds", "round_ratios",
                "sampling_in_run_per_s", "ratio_in_run", "sampler_busy", "commit_ms_mean", "sampling_ms_mean");
        assertThat(json.get("generations_per_s").asDouble()).isEqualTo(120.0);
        assertThat(json.get("sampling_only_per_s").asDouble()).isEqualTo(150.0);
        assertThat(json.get("ratio").asDouble()).as("median of the rounds").isEqualTo(0.8);
        assertThat(json.get("swap_p99_ms").asDouble()).isEqualTo(400.0);
        assertThat(json.get("swap_p50_ms").asDouble()).as("nearest rank").isEqualTo(200.0);
        assertThat(json.get("swaps").asInt()).isEqualTo(4);
        assertThat(json.get("round_ratios")).extracting(JsonNode::asDouble).containsExactly(0.9, 0.7, 0.8);
        assertThat(json.get("sampling_in_run_per_s").asDouble()).isEqualTo(125.0);
        assertThat(json.get("ratio_in_run").asDouble()).isEqualTo(0.96);
        assertThat(json.get("sampler_busy").asDouble()).isEqualTo(0.8);
        assertThat(json.get("commit_ms_mean").asDouble()).isCloseTo(41.25, within(0.051));
        assertThat(json.get("sampling_ms_mean").asDouble()).isEqualTo(73.5);
        assertThat(json.get("batch").asInt()).isEqualTo(32);
        assertThat(json.get("prompts").asInt()).isEqualTo(300);
        // The spacing the command has always printed.
        assertThat(line).startsWith("{\"generations_per_s\":120.0, \"sampling_only_per_s\":150.0, \"ratio\":0.800, ")
                .contains("\"round_ratios\":[0.900, 0.700, 0.800]");
    }

    @Test
    void withoutSwapsTheLatenciesAreNaN() {
        WorkerBench.Result r = new WorkerBench.Result(PARAMETERS, 100, 1.0, 100, 1.0, 100, 1.0, 1, 1, List.of(1.0),
                List.of());

        assertThat(r.toJson()).contains("\"swap_p99_ms\":NaN, \"swap_p50_ms\":NaN, \"swaps\":0,");
    }

    @Test
    void percentileIsTheNearestRank() {
        List<Double> values = List.of(5.0, 1.0, 4.0, 2.0, 3.0);

        assertThat(WorkerBench.percentile(values, 0.50)).isEqualTo(3.0);
        assertThat(WorkerBench.percentile(values, 0.99)).isEqualTo(5.0);
        assertThat(WorkerBench.percentile(values, 0.0)).isEqualTo(1.0);
        assertThat(WorkerBench.percentile(List.of(), 0.5)).isNaN();
    }

    @Test
    void parametersOutOfRangeAreRefusedByName() {
        assertThatThrownBy(() -> new WorkerBench.Parameters(0, 3, 8, 4, 32, 32, 20, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("prompts must be >= 1, got 0");
        assertThatThrownBy(() -> new WorkerBench.Parameters(300, 0, 8, 4, 32, 32, 20, 1))
                .hasMessage("rounds must be >= 1, got 0");
        assertThatThrownBy(() -> new WorkerBench.Parameters(300, 3, -1, 4, 32, 32, 20, 1))
                .hasMessage("warmup-s must be a number >= 0, got -1.0");
        assertThatThrownBy(() -> new WorkerBench.Parameters(300, 3, Double.NaN, 4, 32, 32, 20, 1))
                .hasMessageStartingWith("warmup-s");
        assertThatThrownBy(() -> new WorkerBench.Parameters(300, 3, 8, 0, 32, 32, 20, 1))
                .hasMessage("samples must be >= 1, got 0");
        assertThatThrownBy(() -> new WorkerBench.Parameters(300, 3, 8, 4, 0, 32, 20, 1))
                .hasMessage("batch must be >= 1, got 0");
        assertThatThrownBy(() -> new WorkerBench.Parameters(300, 3, 8, 4, 32, 0, 20, 1))
                .hasMessage("max-new-tokens must be >= 1, got 0");
        assertThatThrownBy(() -> new WorkerBench.Parameters(300, 3, 8, 4, 32, 32, -1, 1))
                .hasMessage("swaps must be >= 0, got -1");
        assertThat(new WorkerBench.Parameters(1, 1, 0, 1, 1, 1, 0, 0).swaps()).isZero();
    }
}
