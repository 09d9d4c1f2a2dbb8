package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.checkpoint.LedgerEntry;
import io.streamrlhf.learner.checkpoint.LedgerSegment;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfCausalLm;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.models.hf.safetensors.SafetensorsFile;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code rlhf export --checkpoint-dir}: over a learner checkpoint directory written by {@link LearnerCheckpointStore}
 * (versions 1 and 2 of a tiny Qwen2 policy, the second with other weights), a version is written as a folder that
 * loads with that version's logits; {@code latest} takes the newest; a missing version names those there; a folder in
 * the way, the project's own architecture and a directory that is not the learner's are refused with a reason.
 */
class ExportCommandTest {

    private static final int[] IDS = {5, 17, 3, 42, 8};

    @TempDir
    Path tmp;

    private Path ckpt;
    private Path folder1;
    private Path folder2;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    /** Versions 1 and 2 as the learner saves them: each policy checkpoint beside its state and ledger segment. */
    @BeforeEach
    void learnerDirectory() throws Exception {
        folder1 = tinyQwen2("start", 1);
        folder2 = tinyQwen2("trained", 2);
        ckpt = tmp.resolve("learner");
        LearnerCheckpointStore store = new LearnerCheckpointStore(ckpt);
        save(store, null, 1, folder1);
        save(store, store.load(1), 2, folder2);
    }

    private Path tinyQwen2(String name, long seed) throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve(name), TinyHfModels.Architecture.QWEN2, seed);
        return TinyHfModels.writeTokenizer(dir, TinyHfModels.Architecture.QWEN2.config().vocabSize());
    }

    private static void save(LearnerCheckpointStore store, LearnerCheckpoint previous, long version, Path folder) {
        Checkpoint policy;
        try (HfPolicy p = HfPolicy.load(folder, 0)) {
            policy = p.toCheckpoint(Map.of("version", Long.toString(version)), new byte[] {7});
        }
        save(store, previous, version, policy);
    }

    private static void save(LearnerCheckpointStore store, LearnerCheckpoint previous, long version,
                             Checkpoint policy) {
        List<LedgerSegment> chain = store.appendLedger(previous == null ? List.of() : previous.ledger(),
                List.of(new LedgerEntry("g-" + version, version, LedgerEntry.Outcome.TRAINED, "rlhf.scored-0",
                        version)));
        store.save(new LearnerCheckpoint(version, version - 1, version, version, new double[] {1, 0, 0}, policy,
                Map.of("rlhf.scored-0", version + 1), chain, Map.of()));
    }

    private int run(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        CommandLine cli = Rlhf.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    private static float[] logits(Path dir) {
        try (HfCausalLm lm = HfCausalLm.load(dir); NDManager m = lm.manager().newSubManager()) {
            return lm.logits(m.create(IDS, new Shape(1, IDS.length))).toFloatArray();
        }
    }

    @Test
    void writesAVersionOfTheLearnerDirectoryAsAFolderWithThatVersionsLogits() throws Exception {
        Path export = tmp.resolve("export");

        assertThat(run("export", "--version", "1", "--checkpoint-dir", ckpt.toString(), "--out", export.toString()))
                .as(err.toString()).isZero();

        assertThat(logits(export)).containsExactly(logits(folder1), within(0f));
        assertThat(logits(export)).isNotEqualTo(logits(folder2));
        for (String name : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
            assertThat(export.resolve(name)).hasSameBinaryContentAs(folder1.resolve(name));
        }
        assertThat(SafetensorsFile.open(export.resolve("model.safetensors")).tensors().keySet())
                .noneMatch(t -> t.startsWith("v_head"));
        assertThat(out.toString()).contains("exported version 1 from " + ckpt.toAbsolutePath().resolve("v000000000001"))
                .contains("Qwen2ForCausalLM").contains("F32")
                .contains("files: config.json, generation_config.json, model.safetensors, tokenizer.json, "
                        + "tokenizer_config.json");
    }

    @Test
    void latestTakesTheNewestVersionAndDtypeHalvesTheWeights() throws Exception {
        Path export = tmp.resolve("export");

        assertThat(run("export", "--version", "latest", "--checkpoint-dir", ckpt.toString(), "--out",
                export.toString(), "--dtype", "bf16")).as(err.toString()).isZero();

        assertThat(out.toString()).contains("exported version 2").contains("BF16");
        assertThat(SafetensorsFile.open(export.resolve("model.safetensors")).tensors().values())
                .allMatch(t -> t.dtype() == SafetensorsDtype.BF16);
        float[] expected = logits(folder2);
        float[] actual = logits(export);
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).isCloseTo(expected[i], within(0.1f));
        }
    }

    @Test
    void aVersionThatIsNotThereNamesTheVersionsThatAre() {
        Path export = tmp.resolve("export");

        assertThat(run("export", "--version", "5", "--checkpoint-dir", ckpt.toString(), "--out", export.toString()))
                .isEqualTo(1);

        assertThat(err.toString()).contains("version 5 is not in " + ckpt).contains("versions there: 1, 2");
        assertThat(export).doesNotExist();
    }

    @Test
    void aFolderInTheWayIsRefusedUnlessForced() throws Exception {
        Path export = Files.createDirectories(tmp.resolve("export"));
        Files.writeString(export.resolve("README.md"), "mine");

        assertThat(run("export", "--version", "2", "--checkpoint-dir", ckpt.toString(), "--out", export.toString()))
                .isEqualTo(2);
        assertThat(err.toString()).contains("--out " + export).contains("not empty").contains("--force");
        assertThat(export.resolve("README.md")).hasContent("mine");

        assertThat(run("export", "--version", "2", "--checkpoint-dir", ckpt.toString(), "--out", export.toString(),
                "--force")).isZero();
        assertThat(export.resolve("README.md")).doesNotExist();
        assertThat(logits(export)).containsExactly(logits(folder2), within(0f));
    }

    @Test
    void theSyntheticWorldsPolicyIsRefusedWithWhatCanBeExported() {
        LearnerCheckpointStore store = new LearnerCheckpointStore(ckpt);
        try (TransformerPolicy ours = TransformerPolicy.create(new TransformerConfig(32, 16, 8, 1, 2), 3)) {
            save(store, store.load(2), 3, ours.toCheckpoint(Map.of("version", "3"), null));
        }

        assertThat(run("export", "--version", "3", "--checkpoint-dir", ckpt.toString(), "--out",
                tmp.resolve("export").toString())).isEqualTo(1);

        assertThat(err.toString()).contains("'transformer'").contains("not a Hugging Face model")
                .contains("rlhf learn --init-checkpoint");
        assertThat(tmp.resolve("export")).doesNotExist();
    }

    @Test
    void helpNamesTheVersionTheSourcesAndTheDtypes() {
        assertThat(run("export", "--help")).isZero();
        assertThat(out.toString()).contains("--version=N|latest").contains("--checkpoint-dir=DIR")
                .contains("f32").contains("F32, BF16, F16").contains("--bootstrap").doesNotContain("Print version");
    }

    @Test
    void refusesBadArgumentsWithAReason() throws Exception {
        Path other = Files.createDirectories(tmp.resolve("not-a-learner"));
        assertThat(run("export", "--version", "1", "--checkpoint-dir", other.toString(), "--out",
                tmp.resolve("e").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("holds no learner checkpoints");
        assertThat(other).isEmptyDirectory();

        assertThat(run("export", "--version", "two", "--checkpoint-dir", ckpt.toString(), "--out",
                tmp.resolve("e").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--version must be a version number (0 or more) or 'latest', got 'two'");

        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertThat(run("export", "--version", "1", "--checkpoint-dir", ckpt.toString(), "--out", file.toString(),
                "--force")).isEqualTo(2);
        assertThat(err.toString()).contains("--out " + file + " exists and is not a directory");

        assertThat(run("export", "--version", "1", "--checkpoint-dir", ckpt.toString(), "--out",
                tmp.resolve("e").toString(), "--dtype", "f64")).isEqualTo(2);
        assertThat(err.toString()).contains("--dtype").contains("F32, BF16, F16");
    }
}
