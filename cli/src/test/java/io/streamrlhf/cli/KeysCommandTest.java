package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.signing.SigningKeys;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysCommandTest {

    @TempDir
    Path dir;

    @Test
    void generateWritesAPairThatSignsAndVerifiesAndPrintsTheSettings() {
        RlhfCommandTest.Run run = RlhfCommandTest.run("keys", "generate", "--out", dir.toString());
        assertThat(run.exit()).as(run.err()).isZero();
        Path priv = dir.resolve(SigningKeys.PRIVATE_FILE).toAbsolutePath();
        Path pub = dir.resolve(SigningKeys.PUBLIC_FILE).toAbsolutePath();
        assertThat(run.out()).contains(VersionSigningConfig.SIGN_KEY + "=" + priv)
                .contains(VersionSigningConfig.VERIFY_KEYS + "=" + pub)
                .contains(SigningKeys.keyId(SigningKeys.readPublic(pub)));

        VersionSigningConfig config = new VersionSigningConfig(Map.of(VersionSigningConfig.SIGN_KEY, priv.toString(),
                VersionSigningConfig.VERIFY_KEYS, pub.toString()));
        PolicyVersion v = PolicyVersion.newBuilder().setName("chat").setVersion(3).setCheckpointUri("file:/c/")
                .setSha256("ab".repeat(32)).setSizeBytes(1).setCreatedAt(Instant.EPOCH).build();
        assertThat(config.verifier().refusal(config.signer().orElseThrow().sign(v))).isEmpty();
        assertThat(config.verifier().refusal(v)).isPresent();

        RlhfCommandTest.Run again = RlhfCommandTest.run("keys", "generate", "--out", dir.toString());
        assertThat(again.exit()).isNotZero();
        assertThat(again.err()).contains("exists already");
    }
}
