package io.streamrlhf.models.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.checkpoint.ModelKind;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.hf.safetensors.SafetensorsFile;
import io.streamrlhf.models.hf.safetensors.SafetensorsWriter;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link HfExport}: a trained Hugging Face policy's checkpoint, written as a folder, loads as a plain
 * {@link HfCausalLm} with the policy's logits (exactly in F32, within the rounding in BF16 and F16), holds no value
 * head, carries the original tokenizer and generation files byte for byte; checkpoints that are not Hugging Face
 * policies, weights that do not fit their config, and a folder in the way are refused.
 */
class HfExportTest {

    private static final int[] IDS = {5, 17, 3, 42, 8, 23, 61, 9};
    private static final List<String> CARRIED = List.of("tokenizer.json", "tokenizer_config.json",
            "generation_config.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    private Path folder(TinyHfModels.Architecture arch, long seed) throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve(arch.name() + "-" + seed), arch, seed);
        TinyHfModels.writeTokenizer(dir, arch.config().vocabSize());
        return dir;
    }

    private static float[] policyLogits(HfPolicy policy) {
        try (NDManager m = policy.manager().newSubManager()) {
            return policy.forward(m.create(IDS, new Shape(1, IDS.length)), null, false).logits().toFloatArray();
        }
    }

    private static float[] folderLogits(Path dir) {
        try (HfCausalLm lm = HfCausalLm.load(dir); NDManager m = lm.manager().newSubManager()) {
            return lm.logits(m.create(IDS, new Shape(1, IDS.length))).toFloatArray();
        }
    }

    /** The checkpoint of a policy loaded from {@code dir} after one training step, as the learner saves it. */
    private Checkpoint trainedCheckpoint(HfPolicy policy) {
        HfPolicyTest.trainOneStep(policy);
        Checkpoint checkpoint = policy.toCheckpoint(Map.of("version", "3"), new byte[] {1, 2, 3});
        return CheckpointStore.load(CheckpointStore.save(checkpoint, tmp.resolve("ckpt-" + System.nanoTime())));
    }

    @ParameterizedTest
    @EnumSource(TinyHfModels.Architecture.class)
    void aTrainedPolicyExportsAsAFolderWithItsLogitsExactlyAndNoValueHead(TinyHfModels.Architecture arch)
            throws Exception {
        Path dir = folder(arch, 11);
        try (HfPolicy policy = HfPolicy.load(dir, 0)) {
            float[] before = policyLogits(policy);
            Checkpoint checkpoint = trainedCheckpoint(policy);
            float[] trained = policyLogits(policy);
            assertThat(trained).as("the step changed the weights").isNotEqualTo(before);

            Path out = tmp.resolve("export-" + arch);
            HfExport.Result result = HfExport.write(checkpoint, out, SafetensorsDtype.F32, false);

            assertThat(folderLogits(out)).containsExactly(trained, within(0f));
            assertThat(result.files()).containsExactly("config.json", "generation_config.json", "model.safetensors",
                    "tokenizer.json", "tokenizer_config.json");
            assertThat(result.architecture()).isEqualTo(arch.config().architecture());
            SafetensorsFile weights = SafetensorsFile.open(out.resolve("model.safetensors"));
            assertThat(weights.tensors().keySet()).noneMatch(name -> name.startsWith("v_head"))
                    .containsExactlyInAnyOrderElementsOf(policy.namedArrays(false).keySet());
            assertThat(result.tensors()).isEqualTo(weights.tensors().size());
            assertThat(weights.tensors().values()).allMatch(t -> t.dtype() == SafetensorsDtype.F32);
            assertThat(weights.metadata()).containsEntry("format", "pt");
            // as save_pretrained would write the trained weights
            assertThat(Files.readAllBytes(out.resolve("model.safetensors")))
                    .isEqualTo(SafetensorsWriter.toBytes(policy.namedArrays(false), SafetensorsDtype.F32));
            for (String name : CARRIED) {
                assertThat(out.resolve(name)).as(name).hasBinaryContent(Files.readAllBytes(dir.resolve(name)));
            }
            ObjectNode config = (ObjectNode) JSON.readTree(out.resolve("config.json").toFile());
            assertThat(config.get("torch_dtype").asText()).isEqualTo("float32");
            config.remove("torch_dtype");
            ObjectNode original = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
            original.remove("torch_dtype");
            assertThat(config).as("config.json but its dtype").isEqualTo(original);
        }
    }

    @Test
    void theExportedTokenizerLoadsAndRendersTheChatTemplate() throws Exception {
        Path dir = folder(TinyHfModels.Architecture.QWEN2, 12);
        try (HfPolicy policy = HfPolicy.load(dir, 0)) {
            Path out = HfExport.write(policy.toCheckpoint(Map.of(), null), tmp.resolve("out"), SafetensorsDtype.F32,
                    false).dir();
            try (HfTokenizer exported = HfTokenizer.load(out); HfTokenizer original = HfTokenizer.load(dir)) {
                String text = "Name three colours, please!";
                assertThat(exported.encode(text)).containsExactly(original.encode(text));
                assertThat(exported.eosId()).isEqualTo(original.eosId());
                assertThat(exported.stopIds()).isEqualTo(original.stopIds());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = SafetensorsDtype.class, names = {"BF16", "F16"})
    void halfPrecisionExportsRoundEachWeightAsPyTorchAndKeepTheLogitsWithinTheRounding(SafetensorsDtype dtype)
            throws Exception {
        Path dir = folder(TinyHfModels.Architecture.QWEN2, 13);
        try (HfPolicy policy = HfPolicy.load(dir, 0)) {
            Checkpoint checkpoint = trainedCheckpoint(policy);
            float[] trained = policyLogits(policy);
            Path out = tmp.resolve("export-" + dtype);

            HfExport.write(checkpoint, out, dtype, false);

            // every tensor is the trained float32 value rounded to nearest, ties to even
            assertThat(Files.readAllBytes(out.resolve("model.safetensors")))
                    .isEqualTo(SafetensorsWriter.toBytes(policy.namedArrays(false), dtype));
            assertThat(SafetensorsFile.open(out.resolve("model.safetensors")).tensors().values())
                    .allMatch(t -> t.dtype() == dtype);
            assertThat(JSON.readTree(out.resolve("config.json").toFile()).get("torch_dtype").asText())
                    .isEqualTo(dtype == SafetensorsDtype.BF16 ? "bfloat16" : "float16");
            float[] logits = folderLogits(out);
            double maxAbs = 0;
            double maxErr = 0;
            for (int i = 0; i < trained.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(trained[i]));
                maxErr = Math.max(maxErr, Math.abs(logits[i] - trained[i]));
            }
            // bf16 keeps 8 significant bits (relative rounding 2^-9), f16 11 (2^-12); the logits of this tiny model
            // move by about one such unit of their largest value (0.031 of 15.2 in bf16, 0.0035 in f16)
            double unit = dtype == SafetensorsDtype.BF16 ? 0x1p-9 : 0x1p-12;
            assertThat(maxErr).as("largest logit error").isLessThan(4 * unit * maxAbs).isGreaterThan(0);
        }
    }

    @Test
    void anUntrainedVersionExportsTheStartingFoldersWeightsByteForByte() throws Exception {
        // a version that never trained: the export is the starting folder's own weights
        Path dir = folder(TinyHfModels.Architecture.LLAMA, 14);
        try (HfPolicy policy = HfPolicy.load(dir, 0)) {
            Path out = HfExport.write(policy.toCheckpoint(Map.of(), null), tmp.resolve("out"), SafetensorsDtype.F32,
                    false).dir();
            assertThat(out.resolve("model.safetensors")).hasSameBinaryContentAs(dir.resolve("model.safetensors"));
        }
    }

    @Test
    void refusesTheProjectsOwnArchitectureAndSaysWhatCanBeExported() {
        Checkpoint ours;
        try (TransformerPolicy policy = TransformerPolicy.create(new TransformerConfig(32, 16, 8, 1, 2), 1)) {
            ours = policy.toCheckpoint(Map.of("version", "2"), null);
        }
        assertThatThrownBy(() -> HfExport.write(ours, tmp.resolve("out"), SafetensorsDtype.F32, false))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'transformer'").hasMessageContaining("not a Hugging Face model")
                .hasMessageContaining("'hf'").hasMessageContaining("rlhf learn --init-checkpoint");
        assertThat(tmp.resolve("out")).doesNotExist();

        Checkpoint reward = new Checkpoint(ModelKind.REWARD_MODEL, HfPolicy.ARCHITECTURE,
                new TransformerConfig(32, 16, 8, 1, 2), new byte[8], null, Map.of());
        assertThatThrownBy(() -> HfExport.check(reward)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("REWARD_MODEL").hasMessageContaining("only policies");
    }

    @Test
    void refusesWeightsThatDoNotFitTheirConfig() throws Exception {
        Path qwen = folder(TinyHfModels.Architecture.QWEN2, 15);
        Path llama = folder(TinyHfModels.Architecture.LLAMA, 15);
        try (HfPolicy policy = HfPolicy.load(qwen, 0); HfPolicy other = HfPolicy.load(llama, 0)) {
            Checkpoint checkpoint = policy.toCheckpoint(Map.of(), null);

            Map<String, NDArray> lacking = new TreeMap<>(policy.namedArrays(true));
            lacking.remove("model.norm.weight");
            Checkpoint missing = new Checkpoint(ModelKind.POLICY, HfPolicy.ARCHITECTURE, checkpoint.config(),
                    SafetensorsWriter.toBytes(lacking, SafetensorsDtype.F32), null, Map.of(), checkpoint.modelFiles());
            assertThatThrownBy(() -> HfExport.check(missing)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("lack tensor model.norm.weight");

            Map<String, byte[]> llamaFiles = new TreeMap<>(checkpoint.modelFiles());
            llamaFiles.put("config.json", other.files().get("config.json"));
            Checkpoint mismatched = new Checkpoint(ModelKind.POLICY, HfPolicy.ARCHITECTURE, checkpoint.config(),
                    checkpoint.weights(), null, Map.of(), llamaFiles);
            assertThatThrownBy(() -> HfExport.check(mismatched)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("LlamaForCausalLM").hasMessageMatching("(?s).*tensor model\\..* (has shape|"
                            + "which a LlamaForCausalLM).*");

            Map<String, byte[]> noConfig = new TreeMap<>(checkpoint.modelFiles());
            noConfig.remove("config.json");
            Checkpoint bare = new Checkpoint(ModelKind.POLICY, HfPolicy.ARCHITECTURE, checkpoint.config(),
                    checkpoint.weights(), null, Map.of(), noConfig);
            assertThatThrownBy(() -> HfExport.check(bare)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("carries no config.json");

            Checkpoint corrupt = new Checkpoint(ModelKind.POLICY, HfPolicy.ARCHITECTURE, checkpoint.config(),
                    new byte[] {1, 2, 3}, null, Map.of(), checkpoint.modelFiles());
            assertThatThrownBy(() -> HfExport.check(corrupt)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("checkpoint weights").hasMessageContaining("truncated safetensors file");
        }
    }

    @Test
    void refusesAFolderInTheWayUnlessToldToReplaceIt() throws Exception {
        Path dir = folder(TinyHfModels.Architecture.QWEN2, 16);
        try (HfPolicy policy = HfPolicy.load(dir, 0)) {
            Checkpoint checkpoint = policy.toCheckpoint(Map.of(), null);
            Path out = Files.createDirectories(tmp.resolve("out"));
            Files.writeString(out.resolve("notes.txt"), "mine");

            assertThatThrownBy(() -> HfExport.write(checkpoint, out, SafetensorsDtype.F32, false))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(out.toString())
                    .hasMessageContaining("not empty");
            assertThat(out.resolve("notes.txt")).hasContent("mine");
            assertThat(out.resolve("model.safetensors")).doesNotExist();

            HfExport.write(checkpoint, out, SafetensorsDtype.F32, true);
            assertThat(out.resolve("notes.txt")).doesNotExist();
            assertThat(out.resolve("model.safetensors")).exists();
            try (var listed = Files.list(tmp)) {
                assertThat(listed.map(p -> p.getFileName().toString())).as("no temporaries left")
                        .noneMatch(name -> name.startsWith("."));
            }

            Path empty = Files.createDirectories(tmp.resolve("empty"));
            HfExport.write(checkpoint, empty, SafetensorsDtype.F32, false);
            assertThat(empty.resolve("config.json")).exists();

            Path file = Files.writeString(tmp.resolve("a-file"), "x");
            assertThatThrownBy(() -> HfExport.write(checkpoint, file, SafetensorsDtype.F32, true))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a directory");
        }
    }

    @Test
    void keepsTheNewerDtypeKeyOfAConfig() throws Exception {
        byte[] config = "{\"architectures\":[\"Qwen2ForCausalLM\"],\"dtype\":\"bfloat16\",\"vocab_size\":8}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        JsonNode written = JSON.readTree(HfExport.withDtype(config, SafetensorsDtype.F32));
        assertThat(written.get("dtype").asText()).isEqualTo("float32");
        assertThat(written.has("torch_dtype")).isFalse();
        assertThat(written.get("vocab_size").asInt()).isEqualTo(8);
    }
}
