package io.streamrlhf.schemas.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VersionSigningTest {

    private static final String SHA = "ab".repeat(32);

    @TempDir
    Path dir;

    static PolicyVersion policy(long version, Long parent) {
        return PolicyVersion.newBuilder().setName("chat").setVersion(version).setCheckpointUri("file:/x/")
                .setSha256(SHA).setSizeBytes(10).setParentVersion(parent).setCreatedAt(Instant.EPOCH).build();
    }

    @Test
    void keysRoundTripThroughPemFilesAndTheDerivedPublicKeyMatches() throws Exception {
        KeyPair pair = SigningKeys.generate();
        Path priv = SigningKeys.writePair(pair, dir);
        assertThat(Files.readString(priv)).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(SigningKeys.readPrivate(priv).getEncoded()).isEqualTo(pair.getPrivate().getEncoded());
        assertThat(SigningKeys.readPublic(dir.resolve(SigningKeys.PUBLIC_FILE)).getEncoded())
                .isEqualTo(pair.getPublic().getEncoded());
        assertThat(SigningKeys.publicOf(pair.getPrivate()).getEncoded()).isEqualTo(pair.getPublic().getEncoded());
        assertThat(SigningKeys.keyId(pair.getPublic())).hasSize(16);
        assertThatThrownBy(() -> SigningKeys.writePair(pair, dir)).hasMessageContaining("exists already");
        assertThatThrownBy(() -> SigningKeys.readPublic(priv)).hasMessageContaining("BEGIN PUBLIC KEY");
    }

    @Test
    void aSignedVersionVerifiesAndAnyChangeToItsFieldsIsRefused() {
        KeyPair pair = SigningKeys.generate();
        VersionSigner signer = new VersionSigner(pair.getPrivate());
        VersionVerifier verifier = new VersionVerifier(List.of(pair.getPublic()));
        PolicyVersion signed = signer.sign(policy(7, 6L));
        assertThat(signed.getSigningKeyId()).isEqualTo(SigningKeys.keyId(pair.getPublic()));
        assertThat(verifier.refusal(signed)).isEmpty();

        assertThat(verifier.refusal(PolicyVersion.newBuilder(signed).setVersion(1L << 62).build()))
                .hasValueSatisfying(r -> assertThat(r).contains("does not match"));
        assertThat(verifier.refusal(PolicyVersion.newBuilder(signed).setParentVersion(null).build())).isPresent();
        assertThat(verifier.refusal(PolicyVersion.newBuilder(signed).setSha256("cd".repeat(32)).build())).isPresent();
        assertThat(verifier.refusal(policy(7, 6L))).hasValueSatisfying(r -> assertThat(r).contains("unsigned"));
        // The same fields signed as a policy are not a reward model's signature.
        RewardModelVersion rm = RewardModelVersion.newBuilder().setName("chat").setVersion(7).setCheckpointUri("f")
                .setSha256(SHA).setSizeBytes(1).setParentVersion(6L).setCreatedAt(Instant.EPOCH)
                .setSignature(signed.getSignature()).setSigningKeyId(signed.getSigningKeyId()).build();
        assertThat(verifier.refusal(rm)).isPresent();
        assertThat(verifier.refusal(signer.sign(rm))).isEmpty();
    }

    @Test
    void theLearnerStateAVersionCarriesIsSignedWithIt() {
        KeyPair pair = SigningKeys.generate();
        VersionSigner signer = new VersionSigner(pair.getPrivate());
        VersionVerifier verifier = new VersionVerifier(List.of(pair.getPublic()));
        PolicyVersion withState = signer.sign(PolicyVersion.newBuilder(policy(8, 7L)).setStateSha256("12".repeat(32))
                .setStateSizeBytes(100L).build());
        assertThat(verifier.refusal(withState)).isEmpty();
        // A standby resumes from the state the record names: another state, or none, breaks the signature.
        assertThat(verifier.refusal(PolicyVersion.newBuilder(withState).setStateSha256("34".repeat(32)).build()))
                .hasValueSatisfying(r -> assertThat(r).contains("does not match"));
        assertThat(verifier.refusal(PolicyVersion.newBuilder(withState).setStateSha256(null).build())).isPresent();
        PolicyVersion without = signer.sign(policy(8, 7L));
        assertThat(verifier.refusal(PolicyVersion.newBuilder(without).setStateSha256("12".repeat(32)).build()))
                .as("a state added to a version signed without one").isPresent();
        // A version without state signs exactly the fields it signed before states were covered.
        assertThat(SignedVersion.of(without).payload()).isEqualTo(new SignedVersion(SignedVersion.POLICY, "chat", 8,
                7L, SHA, null, null, null).payload());
    }

    @Test
    void theTrainerStateARewardModelVersionCarriesIsSignedWithIt() {
        KeyPair pair = SigningKeys.generate();
        VersionSigner signer = new VersionSigner(pair.getPrivate());
        VersionVerifier verifier = new VersionVerifier(List.of(pair.getPublic()));
        RewardModelVersion rm = RewardModelVersion.newBuilder().setName("rm-1").setVersion(4).setCheckpointUri("f")
                .setSha256(SHA).setSizeBytes(1).setParentVersion(3L).setEnsemble("rm").setCreatedAt(Instant.EPOCH)
                .build();
        RewardModelVersion withState = signer.sign(RewardModelVersion.newBuilder(rm).setStateSha256("12".repeat(32))
                .setStateChunksPartition(0).setStateChunksFirstOffset(5L).setStateChunksLastOffset(9L).build());
        assertThat(verifier.refusal(withState)).isEmpty();
        // A trainer on a fresh machine resumes from the state the record names: another one breaks the signature.
        assertThat(verifier.refusal(RewardModelVersion.newBuilder(withState).setStateSha256("34".repeat(32)).build()))
                .hasValueSatisfying(r -> assertThat(r).contains("does not match"));
        assertThat(verifier.refusal(RewardModelVersion.newBuilder(signer.sign(rm)).setStateSha256("12".repeat(32))
                .build())).as("a state added to a version signed without one").isPresent();
        assertThat(SignedVersion.of(rm).payload()).as("without a state: the bytes signed before states were covered")
                .isEqualTo(new SignedVersion(SignedVersion.REWARD_MODEL, "rm-1", 4, 3L, SHA, null, null, null)
                        .payload());
    }

    @Test
    void aVersionSignedByAnotherKeyIsRefusedNamingTheKey() {
        VersionSigner intruder = new VersionSigner(SigningKeys.generate().getPrivate());
        VersionVerifier verifier = new VersionVerifier(List.of(SigningKeys.generate().getPublic()));
        PolicyVersion forged = intruder.sign(policy(1L << 62, 3L));
        assertThat(verifier.refusal(forged)).hasValueSatisfying(r -> assertThat(r)
                .contains(intruder.keyId()).contains("not among the trusted keys"));
        // Claiming a trusted key id does not help.
        PolicyVersion claimed = PolicyVersion.newBuilder(forged).setSigningKeyId(verifier.keyIds().get(0)).build();
        assertThat(verifier.refusal(claimed)).hasValueSatisfying(r -> assertThat(r).contains("does not match"));
    }

    @Test
    void withoutKeysVerificationIsOffAndEveryVersionPasses() {
        assertThat(VersionVerifier.OFF.enabled()).isFalse();
        assertThat(VersionVerifier.OFF.refusal(policy(1L << 62, null))).isEmpty();
        assertThat(new VersionSigningConfig(Map.of()).verifier().enabled()).isFalse();
        assertThat(new VersionSigningConfig(Map.of()).signer()).isEmpty();
    }

    @Test
    void configReadsTheKeyFilesAndNamesABadOne() throws Exception {
        KeyPair pair = SigningKeys.generate();
        Path priv = SigningKeys.writePair(pair, dir);
        Path pub = dir.resolve(SigningKeys.PUBLIC_FILE);
        VersionSigningConfig config = new VersionSigningConfig(Map.of(VersionSigningConfig.SIGN_KEY, priv.toString(),
                VersionSigningConfig.VERIFY_KEYS, pub + ", " + pub));
        assertThat(config.signer().orElseThrow().keyId()).isEqualTo(SigningKeys.keyId(pair.getPublic()));
        assertThat(config.verifier().keyIds()).containsExactly(SigningKeys.keyId(pair.getPublic()));
        assertThat(new VersionSigningConfig(Map.of(VersionSigningConfig.SIGN_KEY, priv.toString()))
                .publisherVerifier().keyIds()).containsExactly(SigningKeys.keyId(pair.getPublic()));
        assertThatThrownBy(() -> new VersionSigningConfig(Map.of(VersionSigningConfig.VERIFY_KEYS,
                dir.resolve("missing.pem").toString())).verifier())
                .isInstanceOf(ConfigException.class).hasMessageContaining(VersionSigningConfig.VERIFY_KEYS)
                .hasMessageContaining("missing.pem");
    }
}
