package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.learner.ppo.JsonlPtx;
import io.streamrlhf.learner.ppo.SyntheticCorpusPtx;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sft.CorpusFormatException;
import io.streamrlhf.models.sft.SftConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which PPO-ptx corpus the learner trains with: none when {@code ppo.ptx.coef} is 0; {@code learner.ptx.data}
 * encoded with the tokenizer a Hugging Face policy checkpoint carries; the synthetic corpus for the synthetic
 * policy; and each refused for the other kind of policy.
 */
class LearnerPtxSourceTest {

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    private static LearnerConfig config(String ptxData, double coef) {
        Map<String, Object> values = new HashMap<>(Map.of("learner.init.checkpoint", "/unused",
                "ppo.ptx.coef", Double.toString(coef)));
        if (ptxData != null) {
            values.put("learner.ptx.data", ptxData);
        }
        return new LearnerConfig(values);
    }

    /** A Hugging Face policy as the learner holds it: rebuilt from its checkpoint, so from the carried files. */
    private PolicyModel hfPolicy() throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve("qwen2"), TinyHfModels.Architecture.QWEN2, 1);
        TinyHfModels.writeTokenizer(dir, TinyHfModels.Architecture.QWEN2.config().vocabSize());
        Path checkpoint = tmp.resolve("init");
        CheckpointStore.save(PolicyLoader.initialCheckpoint(dir, 0), checkpoint);
        return PolicyLoader.fromCheckpoint(CheckpointStore.load(checkpoint));
    }

    @Test
    void aHuggingFacePolicyTrainsPtxOnTheJsonlCorpusWithTheTokenizerItsCheckpointCarries() throws Exception {
        Path data = Files.writeString(tmp.resolve("ptx.jsonl"), "{\"prompt\": \"hi\", \"response\": \"ok\"}\n"
                + "{\"text\": \"plain\"}\n");
        try (PolicyModel policy = hfPolicy()) {
            assertThat(LearnerService.ptxSource(config(null, 0), policy)).as("ptx off").isNull();

            JsonlPtx ptx = (JsonlPtx) LearnerService.ptxSource(config(data.toString(), 0.5), policy);
            assertThat(ptx.corpus().size()).isEqualTo(2);
            assertThat(ptx.corpus().context()).isEqualTo(policy.config().contextLength());
            assertThat(ptx.corpus().sequences().get(0).ids()[ptx.corpus().sequences().get(0).ids().length - 1])
                    .as("<|im_end|>, the tokenizer_config's EOS").isEqualTo(2);

            assertThatThrownBy(() -> LearnerService.ptxSource(config(null, 0.5), policy))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("learner.ptx.data is empty: a Hugging Face policy needs a JSONL corpus");

            Path bad = Files.writeString(tmp.resolve("bad.jsonl"), "{\"text\": \"a\"}\n{\"messages\": []}\n");
            assertThatThrownBy(() -> LearnerService.ptxSource(config(bad.toString(), 0.5), policy))
                    .isInstanceOf(CorpusFormatException.class).hasMessageStartingWith(bad + ":2: ");
        }
    }

    @Test
    void theSyntheticPolicyKeepsTheSyntheticCorpusAndRefusesAJsonlOne() {
        try (TransformerPolicy policy = TransformerPolicy.create(SftConfig.DEMO_MODEL, 1)) {
            assertThat(LearnerService.ptxSource(config(null, 0.5), policy)).isInstanceOf(SyntheticCorpusPtx.class);
            assertThatThrownBy(() -> LearnerService.ptxSource(config("/data/ptx.jsonl", 0.5), policy))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("the policy is a 'transformer' one, which has no Hugging Face tokenizer");
        }
    }
}
