package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.learner.app.PolicyPublisher;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.checkpoint.LedgerEntry;
import io.streamrlhf.learner.checkpoint.LedgerSegment;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfCausalLm;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.signing.SigningKeys;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.topics.CatalogTopics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code rlhf export} from the cluster, on the embedded broker and registry: versions published as the learner
 * publishes them ({@link PolicyPublisher}; version 1 as a {@code file:} URI on shared storage, version 2 in chunks on
 * the checkpoints topic) are fetched, verified against their published sha256 and written as folders with their own
 * logits; a version published with a sha256 that is not its manifest's is refused, and a version that is not on
 * {@code policy.versions} names the versions that are.
 */
class ExportCommandIT {

    private static final int[] IDS = {5, 17, 3, 42, 8};
    private static final String POLICY = "export-policy";

    private static EmbeddedCluster cluster;

    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void useTheSharedCluster() {
        ModelRuntime.init(1);
        cluster = SharedCluster.get();
    }

    private int run(String prefix, String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap", cluster.bootstrapServers(), "--registry", cluster.registryUrl(),
                "--topic-prefix", prefix, "--timeout-s", "20"));
        CommandLine cli = Rlhf.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(all.toArray(String[]::new));
    }

    private Path tinyQwen2(String name, long seed) throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve(name), TinyHfModels.Architecture.QWEN2, seed);
        return TinyHfModels.writeTokenizer(dir, TinyHfModels.Architecture.QWEN2.config().vocabSize());
    }

    private static float[] logits(Path dir) {
        try (HfCausalLm lm = HfCausalLm.load(dir); NDManager m = lm.manager().newSubManager()) {
            return lm.logits(m.create(IDS, new Shape(1, IDS.length))).toFloatArray();
        }
    }

    private static LearnerCheckpoint save(LearnerCheckpointStore store, LearnerCheckpoint previous, long version,
                                          Path folder) {
        List<LedgerSegment> chain = store.appendLedger(previous == null ? List.of() : previous.ledger(),
                List.of(new LedgerEntry("g-" + version, version, LedgerEntry.Outcome.TRAINED, "rlhf.scored-0",
                        version)));
        try (HfPolicy p = HfPolicy.load(folder, 0)) {
            store.save(new LearnerCheckpoint(version, version - 1, version, version, new double[] {1, 0, 0},
                    p.toCheckpoint(Map.of("version", Long.toString(version)), new byte[] {7}),
                    Map.of("rlhf.scored-0", version + 1), chain, Map.of()));
        }
        return store.load(version);
    }

    private static PolicyVersion record(long version, String uri, String sha256, long size) {
        return PolicyVersion.newBuilder().setName(POLICY).setVersion(version).setCheckpointUri(uri).setSha256(sha256)
                .setSizeBytes(size).setParentVersion(version - 1).setStep(version).setMetrics(Map.of())
                .setCreatedAt(Instant.now()).build();
    }

    @Test
    void exportsPublishedVersionsFetchedAndVerifiedAsWorkersDo() throws Exception {
        String prefix = "export" + UUID.randomUUID().toString().substring(0, 8) + ".";
        CatalogTopics catalog = CatalogTopics.on(cluster.bootstrapServers(), cluster.registryUrl()).prefix(prefix)
                .partitions(1).timeout(Duration.ofSeconds(30)).create();
        Path folder1 = tinyQwen2("v1", 1);
        Path folder2 = tinyQwen2("v2", 2);
        Path folder3 = tinyQwen2("v3", 3);
        LearnerCheckpointStore store = new LearnerCheckpointStore(tmp.resolve("learner"));
        LearnerCheckpoint c1 = save(store, null, 1, folder1);
        LearnerCheckpoint c2 = save(store, c1, 2, folder2);
        LearnerCheckpoint c3 = save(store, c2, 3, folder3);
        try (PolicyPublisher publisher = new PolicyPublisher(catalog.topics(), catalog.settings(), POLICY)) {
            publisher.publish(record(1, store.policyDir(1).toUri().toString(), store.manifestSha256(1),
                    store.policySize(1)), null);
            publisher.publish(record(2, publisher.chunkUri(2), store.manifestSha256(2), store.policySize(2)),
                    CheckpointStore.toBytes(c2.policy()));
            // published with another version's sha256: what a worker refuses
            publisher.publish(record(3, publisher.chunkUri(3), store.manifestSha256(1), store.policySize(3)),
                    CheckpointStore.toBytes(c3.policy()));
        }

        Path export2 = tmp.resolve("export-2");
        assertThat(run(prefix, "export", "--version", "2", "--policy-name", POLICY, "--out", export2.toString()))
                .as(err.toString()).isZero();
        assertThat(out.toString()).contains("exported version 2 from kafka:" + prefix + "checkpoints/" + POLICY + "/2"
                + " (sha256 verified)");
        assertThat(logits(export2)).containsExactly(logits(folder2), within(0f));
        assertThat(export2.resolve("tokenizer.json")).hasSameBinaryContentAs(folder2.resolve("tokenizer.json"));

        Path export1 = tmp.resolve("export-1");
        assertThat(run(prefix, "export", "--version", "1", "--policy-name", POLICY, "--out", export1.toString()))
                .as(err.toString()).isZero();
        assertThat(out.toString()).contains("exported version 1 from file:");
        assertThat(logits(export1)).containsExactly(logits(folder1), within(0f));

        Path latest = tmp.resolve("export-latest");
        assertThat(run(prefix, "export", "--version", "latest", "--policy-name", POLICY, "--out", latest.toString()))
                .isEqualTo(1);
        assertThat(err.toString()).contains("version 3").contains("refused").contains("sha256");
        assertThat(latest).doesNotExist();

        assertThat(run(prefix, "export", "--version", "7", "--policy-name", POLICY, "--out", latest.toString()))
                .isEqualTo(1);
        assertThat(err.toString()).contains("version 7 of policy '" + POLICY + "' on " + prefix + "policy.versions")
                .contains("versions there: 1, 2, 3").contains("--checkpoint-dir");

        assertThat(run(prefix, "export", "--version", "1", "--policy-name", "nobody", "--out", latest.toString()))
                .isEqualTo(1);
        assertThat(err.toString()).contains("no version of policy 'nobody'").contains("--policy-name");

        // With verification keys, unsigned versions are not exported: not as the newest, not by number.
        Path keys = tmp.resolve("keys");
        SigningKeys.writePair(SigningKeys.generate(), keys);
        Path verify = Files.writeString(tmp.resolve("verify.properties"), VersionSigningConfig.VERIFY_KEYS + "="
                + keys.resolve(SigningKeys.PUBLIC_FILE) + "\n");
        assertThat(run(prefix, "export", "--config", verify.toString(), "--version", "latest", "--policy-name", POLICY,
                "--out", latest.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("no version of policy '" + POLICY + "'").contains("is signed by a key of "
                + VersionSigningConfig.VERIFY_KEYS);
        assertThat(run(prefix, "export", "--config", verify.toString(), "--version", "2", "--policy-name", POLICY,
                "--out", latest.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("version 2").contains("refused: it is unsigned");
        assertThat(latest).doesNotExist();
    }
}
