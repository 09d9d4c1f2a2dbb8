package io.streamrlhf.producer.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.producer.TestPolicies;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointFetcherTest {

    static Checkpoint checkpoint;

    @TempDir
    Path dir;

    @BeforeAll
    static void makeCheckpoint() {
        checkpoint = TestPolicies.checkpoint(3);
    }

    @Test
    void loadsAVerifiedDirectory() {
        Path saved = TestPolicies.save(checkpoint, dir, "v1");
        Checkpoint loaded = new CheckpointFetcher(null).fetch(TestPolicies.version("p", 1, saved));
        assertThat(loaded.weights()).isEqualTo(checkpoint.weights());
        assertThat(loaded.config()).isEqualTo(TestPolicies.TINY);
    }

    @Test
    void refusesAPublishedShaThatDoesNotMatchTheManifest() {
        Path saved = TestPolicies.save(checkpoint, dir, "v1");
        assertThatThrownBy(() -> new CheckpointFetcher(null).fetch(TestPolicies.record("p", 4, saved.toUri().toString(),
                "00".repeat(32)))).isInstanceOf(CheckpointRefusedException.class)
                .hasMessageContaining("policy p version 4").hasMessageContaining("published sha256 is 0000");
    }

    @Test
    void refusesATamperedWeightsFile() throws IOException {
        Path saved = TestPolicies.save(checkpoint, dir, "v1");
        Path weights = saved.resolve(CheckpointStore.WEIGHTS);
        byte[] bytes = Files.readAllBytes(weights);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(weights, bytes);
        // the manifest (and so the published sha) is unchanged: the file check must catch it
        assertThatThrownBy(() -> new CheckpointFetcher(null).fetch(TestPolicies.version("p", 2, saved)))
                .isInstanceOf(CheckpointRefusedException.class).hasMessageContaining("weights.ndlist")
                .hasMessageContaining("sha256");
    }

    @Test
    void refusesMissingDirectoriesAndUnknownSchemes() {
        assertThatThrownBy(() -> new CheckpointFetcher(null).fetch(TestPolicies.record("p", 1,
                dir.resolve("nope").toUri().toString(), "ab"))).isInstanceOf(CheckpointRefusedException.class)
                .hasMessageContaining("cannot read");
        assertThatThrownBy(() -> new CheckpointFetcher(null).fetch(TestPolicies.record("p", 1, "s3://bucket/x", "ab")))
                .isInstanceOf(CheckpointRefusedException.class).hasMessageContaining("unsupported URI scheme 's3'");
    }

    @Test
    void readsKafkaChunksAndChecksTheManifestInsideTheStream() {
        byte[] stream = CheckpointStore.toBytes(checkpoint);
        Path saved = TestPolicies.save(checkpoint, dir, "v1");
        String sha = TestPolicies.manifestSha(saved);  // the same manifest bytes in both forms
        AtomicReference<String> asked = new AtomicReference<>();
        CheckpointFetcher fetcher = new CheckpointFetcher((topic, name, version) -> {
            asked.set(topic + "|" + name + "|" + version);
            return stream;
        });
        Checkpoint loaded = fetcher.fetch(TestPolicies.record("team/policy", 7, "kafka:rlhf.checkpoints/team/policy/7",
                sha));
        assertThat(asked.get()).isEqualTo("rlhf.checkpoints|team/policy|7");
        assertThat(loaded.weights()).isEqualTo(checkpoint.weights());

        assertThatThrownBy(() -> fetcher.fetch(TestPolicies.record("p", 8, "kafka:rlhf.checkpoints/p/8", "ff")))
                .isInstanceOf(CheckpointRefusedException.class).hasMessageContaining("manifest's sha256");
        byte[] truncated = Arrays.copyOf(stream, stream.length / 2);
        CheckpointFetcher cut = new CheckpointFetcher((t, n, v) -> truncated);
        assertThatThrownBy(() -> cut.fetch(TestPolicies.record("p", 9, "kafka:rlhf.checkpoints/p/9", sha)))
                .isInstanceOf(CheckpointRefusedException.class);
    }
}
