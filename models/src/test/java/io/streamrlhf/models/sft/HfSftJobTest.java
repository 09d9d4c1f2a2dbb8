package io.streamrlhf.models.sft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SFT of a Hugging Face policy on a JSONL corpus: on a tiny random Qwen2 folder and a tiny corpus of all three forms
 * the loss per learned token falls by more than half, the saved checkpoint reloads with the trained policy's logits,
 * and the job's checkpoint holds the weights its final loss was measured on.
 */
class HfSftJobTest {

    /** Short answers to short questions, a conversation and a text: memorisable by a tiny model in a few steps. */
    static final String CORPUS = String.join("\n",
            "{\"prompt\": \"what is red?\", \"response\": \"a colour.\"}",
            "{\"prompt\": \"say hi\", \"response\": \"hi there!\"}",
            "{\"prompt\": \"count to three\", \"response\": \"one, two, three.\"}",
            "{\"prompt\": \"name a fruit\", \"response\": \"an apple.\"}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hello\"}, {\"role\": \"assistant\", "
                    + "\"content\": \"hello!\"}, {\"role\": \"user\", \"content\": \"bye\"}, {\"role\": \"assistant\", "
                    + "\"content\": \"goodbye.\"}]}",
            "{\"text\": \"the cat sat on the mat.\"}") + "\n";

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    static Path tinyQwen2(Path dir) throws Exception {
        TinyHfModels.write(dir, TinyHfModels.Architecture.QWEN2, 5);
        TinyHfModels.writeTokenizer(dir, TinyHfModels.Architecture.QWEN2.config().vocabSize());
        return dir;
    }

    private static float[] logits(PolicyModel policy, int[] ids) {
        try (NDManager m = policy.manager().newSubManager()) {
            return policy.forward(m.create(ids, new Shape(1, ids.length)), null, false).logits().toFloatArray();
        }
    }

    @Test
    void trainingLowersTheLossAndTheCheckpointReloadsWithTheSameLogits() throws Exception {
        Path dir = tinyQwen2(tmp.resolve("qwen2"));
        Path data = Files.writeString(tmp.resolve("corpus.jsonl"), CORPUS);
        CorpusSftConfig config = new CorpusSftConfig(1, 40, 4, 3e-3, 0.0, 4, 0, 7L);
        try (HfPolicy policy = HfPolicy.load(dir, 0); HfTokenizer tokenizer = HfTokenizer.load(dir)) {
            EncodedCorpus corpus = JsonlCorpus.read(data).encode(tokenizer, policy.config().contextLength());
            assertThat(corpus.size()).isEqualTo(6);
            assertThat(corpus.skippedLines()).isEmpty();

            CorpusSftResult result = new CorpusSftTrainer(config).train(policy, corpus, tokenizer.padId(), false);

            assertThat(result.steps()).isEqualTo(40);
            assertThat(result.evalExamples()).isEqualTo(6);
            assertThat(result.initialLoss()).as("a random model's loss per token").isGreaterThan(3.0);
            assertThat(result.finalLoss()).as("loss per learned token, before %.3f", result.initialLoss())
                    .isLessThan(0.5 * result.initialLoss());
            assertThat(SftEvaluation.meanLoss(policy, corpus.sequences(), tokenizer.padId(), 3))
                    .as("the measured loss does not depend on the batching")
                    .isCloseTo(result.finalLoss(), within(1e-4));

            Path out = tmp.resolve("sft");
            CheckpointStore.save(policy.toCheckpoint(Map.of("version", "0"), null), out);
            int[] ids = corpus.sequences().get(2).ids();
            try (PolicyModel reloaded = PolicyLoader.fromCheckpoint(CheckpointStore.load(out))) {
                assertThat(reloaded).isInstanceOf(HfPolicy.class);
                assertThat(logits(reloaded, ids)).containsExactly(logits(policy, ids), within(1e-5f));
            }
        }
    }

    @Test
    void theJobSavesTheTrainedPolicyWithItsFilesAndContinuesFromItsOwnCheckpoint() throws Exception {
        Path dir = tinyQwen2(tmp.resolve("qwen2"));
        Path data = Files.writeString(tmp.resolve("corpus.jsonl"), CORPUS);
        Path out = tmp.resolve("sft");

        CorpusSftResult result = HfSftJob.run(dir, data, new CorpusSftConfig(1, 20, 4, 3e-3, 0.0, 2, 0, 3L), out,
                false);

        assertThat(result.finalLoss()).isLessThan(result.initialLoss());
        assertThat(result.corpusSummary()).startsWith("6 examples from " + data);
        Checkpoint saved = CheckpointStore.load(out);
        assertThat(HfPolicy.holds(saved)).isTrue();
        assertThat(saved.hasOptimizerState()).isFalse();
        assertThat(saved.modelFiles()).containsKeys("config.json", "tokenizer.json", "tokenizer_config.json");
        assertThat(saved.metadata()).containsEntry("version", "0").containsEntry("source", "sft")
                .containsEntry("sft.steps", "20").containsEntry("sft.examples", "6")
                .containsEntry("sft.data", data.toAbsolutePath().toString());
        try (HfPolicy reloaded = HfPolicy.fromCheckpoint(saved); HfTokenizer tokenizer = HfTokenizer.load(dir)) {
            EncodedCorpus corpus = JsonlCorpus.read(data).encode(tokenizer, reloaded.config().contextLength());
            assertThat(SftEvaluation.meanLoss(reloaded, corpus.sequences(), tokenizer.padId(), 4))
                    .as("the checkpoint holds the weights the final loss was measured on")
                    .isCloseTo(result.finalLoss(), within(1e-4));
        }

        Path again = tmp.resolve("sft-2");
        CorpusSftResult second = HfSftJob.run(out, data, new CorpusSftConfig(1, 10, 4, 3e-3, 0.0, 0, 0, 4L), again,
                false);
        assertThat(second.initialLoss()).as("a checkpoint as --model starts where it ended")
                .isCloseTo(result.finalLoss(), within(1e-4));
        Map<String, byte[]> files = CheckpointStore.load(again).modelFiles();
        assertThat(files).containsOnlyKeys(saved.modelFiles().keySet());
        files.forEach((name, bytes) -> assertThat(bytes).as(name).isEqualTo(saved.modelFiles().get(name)));
    }

    @Test
    void refusesAModelThatIsNotAHuggingFacePolicyBeforeTraining() throws Exception {
        Path data = Files.writeString(tmp.resolve("corpus.jsonl"), CORPUS);
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> HfSftJob.run(empty, data, CorpusSftConfig.defaults(), tmp.resolve("o1"), false))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("neither a Hugging Face model folder");

        Path synthetic = tmp.resolve("synthetic");
        try (TransformerPolicy policy = TransformerPolicy.create(new TransformerConfig(40, 16, 16, 1, 2), 1)) {
            CheckpointStore.save(policy.toCheckpoint(Map.of(), null), synthetic);
        }
        assertThatThrownBy(() -> HfSftJob.run(synthetic, data, CorpusSftConfig.defaults(), tmp.resolve("o2"), false))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("architecture 'transformer'");

        Path bad = Files.writeString(tmp.resolve("bad.jsonl"), "{\"prompt\": \"a\"}\n");
        assertThatThrownBy(() -> HfSftJob.run(tinyQwen2(tmp.resolve("q")), bad, CorpusSftConfig.defaults(),
                tmp.resolve("o3"), false)).isInstanceOf(CorpusFormatException.class)
                .hasMessage(bad + ":1: missing field \"response\" (the text to learn)");
        assertThat(tmp.resolve("o1")).doesNotExist();
        assertThat(tmp.resolve("o3")).doesNotExist();
    }
}
