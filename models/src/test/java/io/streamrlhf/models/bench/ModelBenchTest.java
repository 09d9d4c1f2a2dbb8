package io.streamrlhf.models.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.models.engine.ModelRuntime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelBenchTest {

    @Test
    void aShortRunReportsThroughputAndAnExactLogprobGapAsOneJsonObject() throws Exception {
        ModelRuntime.init(1);
        ModelBench.Config cfg = new ModelBench.Config(32, 32, 1, 2, 16, 8, 4, 6, 1, 0.2, 3);
        List<String> progress = new ArrayList<>();
        ModelBench.Result r = ModelBench.run(cfg, progress::add);
        assertThat(r.sampleTokensPerSecond()).isPositive();
        assertThat(r.trainSequencesPerSecond()).isPositive();
        assertThat(r.maxLogprobDiff()).isLessThan(1e-4);
        assertThat(progress).anyMatch(l -> l.contains("tokens/s"));
        JsonNode json = new ObjectMapper().readTree(r.toJson());
        assertThat(json.path("sample_tokens_per_s").asDouble()).isPositive();
        assertThat(json.path("train_seq_per_s").asDouble()).isPositive();
        assertThat(json.has("max_logprob_diff")).isTrue();
        assertThat(json.path("config").path("d_model").asInt()).isEqualTo(32);
        assertThat(json.path("config").path("new_tokens").asInt()).isEqualTo(6);
    }

    @Test
    void configRefusesWhatTheBaselineRefuses() {
        assertThatThrownBy(() -> new ModelBench.Config(64, 128, 2, 4, 16, 64, 8, 32, 1, 1, 0))
                .hasMessageContaining("exceeds --context 16");
        assertThatThrownBy(() -> new ModelBench.Config(64, 130, 2, 4, 64, 64, 8, 32, 1, 1, 0))
                .hasMessageContaining("not divisible by --heads 4");
    }

    @Test
    void defaultsAreTheDemoPolicyOnTheBaselineWorkload() {
        ModelBench.Config d = ModelBench.Config.defaults();
        assertThat(d.dModel()).isEqualTo(128);
        assertThat(d.layers()).isEqualTo(2);
        assertThat(d.heads()).isEqualTo(4);
        assertThat(d.batch()).isEqualTo(64);
        assertThat(d.newTokens()).isEqualTo(32);
        assertThat(d.vocab()).isGreaterThan(100);  // the synthetic world's vocabulary
    }
}
