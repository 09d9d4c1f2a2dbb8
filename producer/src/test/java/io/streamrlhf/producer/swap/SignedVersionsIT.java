package io.streamrlhf.producer.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.producer.ItCluster;
import io.streamrlhf.producer.TestPolicies;
import io.streamrlhf.schemas.avro.MetricEvent;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.CheckpointUris;
import io.streamrlhf.schemas.signing.SigningKeys;
import io.streamrlhf.schemas.signing.VersionSigner;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker's follower configured with the learner's public key, against the embedded broker: forged versions far
 * ahead — unsigned, signed by another key, or signed but pointing outside the allowed roots — are refused with their
 * reason, the signed version keeps serving, and the learner's next signed version is taken.
 */
class SignedVersionsIT {

    private static final long FAR_AHEAD = 1L << 62;

    @TempDir
    Path dir;

    @Test
    void forgedVersionsFarAheadAreRefusedTheOldOneKeepsServingAndTheNextSignedOneIsTaken() throws Exception {
        ItCluster cluster = new ItCluster("signed", 1);
        KeyPair learnerKeys = SigningKeys.generate();
        SigningKeys.writePair(learnerKeys, dir.resolve("learner"));
        VersionSigner learner = new VersionSigner(learnerKeys.getPrivate());
        VersionSigner intruder = new VersionSigner(SigningKeys.generate().getPrivate());
        Path roots = dir.resolve("ckpt");
        Path outside = dir.resolve("elsewhere");

        Map<String, Object> settings = cluster.settings();
        settings.put(VersionSigningConfig.VERIFY_KEYS,
                dir.resolve("learner").resolve(SigningKeys.PUBLIC_FILE).toString());
        settings.put(CheckpointUris.ALLOWED_ROOTS, roots.toString());

        cluster.publish(learner.sign(TestPolicies.version("chat", 0,
                TestPolicies.save(TestPolicies.checkpoint(1), roots, "v0"))));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (PolicyFollower follower = PolicyFollower.create(cluster.topics(), settings, "chat", meters)) {
            follower.start();
            assertThat(follower.awaitFirst(Duration.ofSeconds(60)).version()).isZero();
            follower.drainMetricEvents();

            // Valid sha256 of a real checkpoint, no signature.
            Path theirs = TestPolicies.save(TestPolicies.checkpoint(2), roots, "forged");
            cluster.publish(TestPolicies.version("chat", FAR_AHEAD, theirs));
            // Signed, by a key nobody trusts.
            cluster.publish(intruder.sign(TestPolicies.version("chat", FAR_AHEAD + 1, theirs)));
            // Signed with the trusted key's id claimed, but the signature is the intruder's.
            PolicyVersion claimed = PolicyVersion.newBuilder(intruder.sign(TestPolicies.version("chat", FAR_AHEAD + 2,
                    theirs))).setSigningKeyId(learner.keyId()).build();
            cluster.publish(claimed);
            // Properly signed, but the checkpoint lies outside the allowed roots (a '..' climb, then a plain path).
            Path out = TestPolicies.save(TestPolicies.checkpoint(3), outside, "v9");
            cluster.publish(learner.sign(TestPolicies.record("chat", 9,
                    roots.toUri() + "../elsewhere/v9/", TestPolicies.manifestSha(out))));
            cluster.publish(learner.sign(TestPolicies.version("chat", 10, out)));

            await().atMost(Duration.ofSeconds(60)).until(() -> follower.refusedCount() == 5);
            assertThat(follower.refusedVersions()).containsExactlyInAnyOrder(FAR_AHEAD, FAR_AHEAD + 1, FAR_AHEAD + 2,
                    9L, 10L);
            assertThat(follower.newest().orElseThrow().version()).as("the old version keeps serving").isZero();
            assertThat(meters.get("rlhf.policy.checkpoint.refused").counter().count()).isEqualTo(5.0);
            List<MetricEvent> events = follower.drainMetricEvents();
            assertThat(events).filteredOn(e -> e.getName().equals(PolicyFollower.REFUSED_METRIC)).hasSize(5)
                    .extracting(e -> e.getTags().get("reason"))
                    .anySatisfy(r -> assertThat(r).contains("unsigned"))
                    .anySatisfy(r -> assertThat(r).contains("not among the trusted keys"))
                    .anySatisfy(r -> assertThat(r).contains("does not match"))
                    .anySatisfy(r -> assertThat(r).contains("'..' segment"))
                    .anySatisfy(r -> assertThat(r).contains("outside the allowed roots"));

            // The learner's next version goes through.
            cluster.publish(learner.sign(TestPolicies.version("chat", 1,
                    TestPolicies.save(TestPolicies.checkpoint(4), roots, "v1"))));
            await().atMost(Duration.ofSeconds(60)).until(() -> follower.newest().orElseThrow().version() == 1);
        }

        // A worker starting now, with the forgeries newest on the topic, begins with the newest signed version.
        try (PolicyFollower late = PolicyFollower.create(cluster.topics(), settings, "chat",
                new SimpleMeterRegistry())) {
            late.start();
            assertThat(late.awaitFirst(Duration.ofSeconds(60)).version()).isEqualTo(1);
            assertThat(late.refusedVersions()).containsExactlyInAnyOrder(FAR_AHEAD, FAR_AHEAD + 1, FAR_AHEAD + 2, 9L, 10L);
        }
    }
}
