package io.streamrlhf.learner.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.bench.ModelBench;
import io.streamrlhf.models.hf.TinyHfModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny run of the learner bench: the issue's keys in the JSON line, with values that add up. */
class LearnerBenchTest {

    @TempDir
    Path tmp;

    @Test
    void tinyRunReportsTheIssuesFiguresConsistently() throws Exception {
        ModelBench.Config cfg = new ModelBench.Config(16, 16, 1, 2, 16, 4, 4, 4, 1, 0.2, 0);
        List<String> progress = new ArrayList<>();
        LearnerBench.Result r = LearnerBench.run(cfg, 5, 0.1, progress::add);
        JsonNode json = new ObjectMapper().readTree(r.toJson());
        for (String key : List.of("update_seq_per_s", "achieved_gflops", "peak_gflops", "ratio", "rss_growth",
                "rss_updates", "rss_settle_updates", "warmup_s")) {
            assertThat(json.has(key)).as(key).isTrue();
        }
        assertThat(r.updateSeqPerSecond()).isPositive();
        assertThat(r.msPerUpdate()).isCloseTo(1e3 * cfg.batch() / r.updateSeqPerSecond(),
                within(1e-6 * r.msPerUpdate()));
        assertThat(json.get("ratio").asDouble()).isCloseTo(r.achievedGflops() / r.peakGflops(),
                within(1e-3));
        assertThat(json.get("rss_updates").asInt()).isEqualTo(5);
        assertThat(json.get("rss_settle_updates").asInt()).isBetween(0, LearnerBench.MAX_SETTLE_UPDATES);
        assertThat(json.get("warmup_s").asDouble()).isEqualTo(0.1);
        assertThat(json.get("rss_start_mib").asLong()).isPositive();
        // Within the rounding of the two ends to whole MiB.
        assertThat(json.get("rss_growth").asDouble()).isCloseTo(
                (double) (r.rssEndMib() - r.rssStartMib()) / r.rssStartMib(), within(2.0 / r.rssStartMib()));
        // Surefire's JVM is not started with -XX:+AlwaysPreTouch.
        assertThat(json.get("heap_pretouched").asBoolean()).isFalse();
        assertThat(progress).anyMatch(line -> line.startsWith("RSS over 5 updates"));
    }

    @Test
    void aHuggingFaceFolderRunsThroughPpoUpdateWithItsOwnShapeAndFlopCount() throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve("qwen2"), TinyHfModels.Architecture.QWEN2, 3);
        TinyHfModels.writeTokenizer(dir, TinyHfModels.Architecture.QWEN2.config().vocabSize());
        ModelBench.Config workload = new ModelBench.Config(16, 16, 1, 2, 16, 4, 4, 4, 1, 0.2, 0);
        LearnerBench.Result r = LearnerBench.run(dir, workload, 0, 0.1, line -> { });

        JsonNode json = new ObjectMapper().readTree(r.toJson());
        for (String key : List.of("update_seq_per_s", "achieved_gflops", "peak_gflops", "ratio", "ms_per_update")) {
            assertThat(json.path(key).asDouble()).as(key).isPositive();
        }
        assertThat(json.has("rss_growth")).isTrue();
        assertThat(json.path("config").path("vocab").asInt()).isEqualTo(128);
        assertThat(json.path("config").path("d_model").asInt()).isEqualTo(64);
        assertThat(json.path("config").path("architecture").asText()).isEqualTo("Qwen2ForCausalLM");
        assertThat(json.path("config").path("model").asText()).isEqualTo(dir.toString());
        // N of the FLOP formula: the embedding lookup out, the tied output matrix (the same table) in, so for a
        // tied Qwen2 every parameter; the achieved GFLOP/s follow from it and the measured time
        long n = json.path("n_params_flops").asLong();
        assertThat(n).isEqualTo(r.parameters()).isEqualTo(json.path("n_params").asLong());
        long t = 8;
        double attention = 4.0 * 2 * t * t * 64 * 4;
        double gflops = (8.0 * n * 4 * t + 4 * attention) / (r.msPerUpdate() / 1e3) / 1e9;
        assertThat(r.achievedGflops()).isCloseTo(gflops, within(1e-9 * gflops));
    }
}
