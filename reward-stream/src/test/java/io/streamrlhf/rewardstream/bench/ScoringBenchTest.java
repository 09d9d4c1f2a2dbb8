package io.streamrlhf.rewardstream.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.schemas.avro.Generation;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scoring bench's figures from measured rates, its input, and the parameters it refuses. */
class ScoringBenchTest {

    private static final ScoringBench.Parameters PARAMETERS =
            new ScoringBench.Parameters(30_000, 15_000, 32, null, 200, 100, 1, true);

    @Test
    void theJsonLineAveragesTheInProcessRunsEitherSideOfTheStream() throws Exception {
        ScoringBench.Result r = new ScoringBench.Result(PARAMETERS, List.of("rm-bench", "rule-length"), "1",
                new ScoringBench.Raw(600, 2.0, 800), new ScoringBench.StreamRun(450, 31.25, 4.5, 120),
                new ScoringBench.Raw(1_000, 1.0, 100), "rm:/tmp/a \"b\",rule:length", false);

        String line = r.toJson();
        JsonNode json = new ObjectMapper().readTree(line);

        List<String> keys = new ArrayList<>();
        json.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactly("stream_records_per_s", "raw_records_per_s", "ratio", "batch", "sources",
                "stream_mean_batch", "torch_threads", "pipeline", "commit_interval_ms", "raw_cpu_ms_per_record",
                "stream_cpu_ms_per_record", "raw_jit_ms_per_s", "stream_jit_ms_per_s", "reward",
                "local_reward_server", "server_delay_ms", "goal_ratio", "goal_met");
        assertThat(json.get("reward").asText()).isEqualTo("rm:/tmp/a \"b\",rule:length");
        assertThat(json.get("local_reward_server").asBoolean()).isFalse();
        assertThat(json.get("goal_ratio").asDouble()).isEqualTo(0.9);
        assertThat(json.get("goal_met").asBoolean()).isFalse();
        assertThat(json.get("stream_records_per_s").asDouble()).isEqualTo(450.0);
        assertThat(json.get("raw_records_per_s").asDouble()).isEqualTo(800.0);
        assertThat(json.get("ratio").asDouble()).isEqualTo(0.563);  // 450 / 800, three decimals
        assertThat(json.get("batch").asInt()).isEqualTo(32);
        assertThat(json.get("sources")).extracting(JsonNode::asText).containsExactly("rm-bench", "rule-length");
        assertThat(json.get("stream_mean_batch").asDouble()).isEqualTo(31.25);
        assertThat(json.get("torch_threads").asText()).isEqualTo("1");
        assertThat(json.get("pipeline").asBoolean()).isTrue();
        assertThat(json.get("commit_interval_ms").asLong()).isEqualTo(100);
        assertThat(json.get("raw_cpu_ms_per_record").asDouble()).isEqualTo(1.5);
        assertThat(json.get("stream_cpu_ms_per_record").asDouble()).isEqualTo(4.5);
        assertThat(json.get("raw_jit_ms_per_s").asDouble()).isEqualTo(450.0);
        assertThat(json.get("stream_jit_ms_per_s").asDouble()).isEqualTo(120.0);
        // The spacing the command has always printed.
        assertThat(line).startsWith("{\"stream_records_per_s\":450.0, \"raw_records_per_s\":800.0, \"ratio\":0.563, ")
                .contains("\"sources\":[\"rm-bench\",\"rule-length\"]");
    }

    @Test
    void aSourceNameWithAQuoteStaysValidJson() throws Exception {
        ScoringBench.Result r = new ScoringBench.Result(PARAMETERS, List.of("say \"hi\""), "default",
                new ScoringBench.Raw(1, 1, 1), new ScoringBench.StreamRun(1, 1, 1, 1), new ScoringBench.Raw(1, 1, 1),
                "http:http://127.0.0.1:1/score", true);

        JsonNode json = new ObjectMapper().readTree(r.toJson());

        assertThat(json.get("sources").get(0).asText()).isEqualTo("say \"hi\"");
        assertThat(json.get("torch_threads").asText()).isEqualTo("default");
        assertThat(json.get("local_reward_server").asBoolean()).isTrue();
        assertThat(json.get("goal_met").asBoolean()).isTrue();  // 1 / 1
    }

    @Test
    void theInputIsSeededAndDistinct() {
        List<Generation> a = ScoringBench.generations(200);
        List<Generation> b = ScoringBench.generations(200);

        assertThat(a).extracting(Generation::getGenerationId).doesNotHaveDuplicates().hasSize(200);
        assertThat(a).extracting(Generation::getResponseTokens).isEqualTo(
                b.stream().map(Generation::getResponseTokens).toList());
        assertThat(a).allSatisfy(g -> {
            assertThat(g.getPromptTokens()).hasSize(24).allMatch(t -> t >= 4 && t < 64);
            assertThat(g.getResponseTokens()).hasSize(32).allMatch(t -> t >= 4 && t < 64);
        });
        assertThat(a).extracting(Generation::getPromptId).doesNotContain("prompt-97").contains("prompt-96");
    }

    @Test
    void parametersOutOfRangeAreRefusedByName() {
        assertThatThrownBy(() -> new ScoringBench.Parameters(100, 0, 0, null, 200, 100, 1, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("batch must be >= 1, got 0");
        assertThatThrownBy(() -> new ScoringBench.Parameters(10, 0, 32, null, 200, 100, 1, true))
                .hasMessage("records must be >= batch (32), got 10");
        assertThatThrownBy(() -> new ScoringBench.Parameters(100, -1, 32, null, 200, 100, 1, true))
                .hasMessage("warmup must be >= 0, got -1");
        assertThatThrownBy(() -> new ScoringBench.Parameters(100, 0, 32, null, 200, 100, -2, true))
                .hasMessage("torch-threads must be >= 0, got -2");
        assertThat(new ScoringBench.Parameters(32, 0, 32, "rule:length", 0, 0, 0, false).records()).isEqualTo(32);
    }
}
