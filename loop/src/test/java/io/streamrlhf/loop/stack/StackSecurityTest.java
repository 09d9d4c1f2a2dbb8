package io.streamrlhf.loop.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.schemas.security.ComponentAcls.Component;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stack on a secure cluster: each kind's config file holds its own user's credentials and nobody else's, the
 * stack's own cluster is started with {@code --secure}, and a missing or mismatched client file is an error naming
 * it. Also the feedback server every stack runs, and the raters posting to it.
 */
class StackSecurityTest {

    private static final List<String> USERS = List.of("worker", "scorer", "learner", "rm-trainer", "feedback",
            "evaluator", "admin");

    @TempDir Path clients;

    @BeforeEach
    void clientFiles() throws IOException {
        for (String user : USERS) {
            write(user, "rlhf.");
        }
    }

    /** A client file as {@code rlhf cluster up --secure} writes it. */
    private void write(String user, String prefix) throws IOException {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", "localhost:9093");
        p.setProperty("schema.registry.url", "http://localhost:8081/apis/ccompat/v7");
        p.setProperty("topic.prefix", prefix);
        p.setProperty("security.protocol", "SASL_SSL");
        p.setProperty("sasl.mechanism", "SCRAM-SHA-512");
        p.setProperty("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                + "username=\"" + user + "\" password=\"pw-" + user + "\";");
        p.setProperty("ssl.truststore.location", "/data/secure/truststore.p12");
        try (Writer w = Files.newBufferedWriter(clients.resolve(user + ".properties"))) {
            p.store(w, null);
        }
    }

    private StackOptions existing(Path configs) {
        return new StackOptions(Path.of("/srv/stack"), "kafka:9092", "http://registry:8080/apis/ccompat/v7", "rlhf.",
                0, 1, 1, 2, 1, 50, null, null, null, 2, 0, 0, 1, DemoOptions.defaults(), false, configs, 18088);
    }

    private StackPlan plan(StackOptions options) {
        StackSecurity security = StackSecurity.inDirectory(clients,
                StackSecurity.usersOf(StackPlan.of(options, "kafka:9092", "x").configs().keySet()));
        return StackPlan.of(options, options.bootstrap(), options.registry(), null, security);
    }

    @Test
    void eachKindsConfigHoldsItsOwnUsersCredentialsAndTheStacksClusterSettings() {
        StackPlan plan = plan(existing(clients));
        Map<ProcessKind, String> expected = Map.of(ProcessKind.WORKER, "worker", ProcessKind.SCORER, "scorer",
                ProcessKind.LEARNER, "learner", ProcessKind.RM_TRAINER, "rm-trainer", ProcessKind.FEEDBACK, "feedback",
                ProcessKind.RATERS, "feedback", ProcessKind.PROMPTS, "evaluator");
        assertThat(plan.configs().keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((kind, user) -> {
            Map<String, String> config = plan.configs().get(kind);
            assertThat(config.get("sasl.jaas.config")).as("%s runs as %s", kind, user)
                    .contains("username=\"" + user + "\"", "password=\"pw-" + user + "\"");
            for (String other : USERS) {
                if (!other.equals(user)) {
                    assertThat(config.values().toString()).as("%s holds no password of %s", kind, other)
                            .doesNotContain("pw-" + other);
                }
            }
            assertThat(config).containsEntry("security.protocol", "SASL_SSL")
                    .containsEntry("ssl.truststore.location", "/data/secure/truststore.p12")
                    // where the cluster is comes from the stack, not from the client file
                    .containsEntry("bootstrap.servers", "kafka:9092")
                    .containsEntry("schema.registry.url", "http://registry:8080/apis/ccompat/v7");
        });
        assertThat(plan.admin()).containsEntry("security.protocol", "SASL_SSL").doesNotContainKey("bootstrap.servers");
        assertThat(plan.admin().get("sasl.jaas.config")).contains("username=\"admin\"");
        // the ids the users' ACLs grant (rlhf-learner*, rlhf-reward-stream*), not the demo profile's
        assertThat(plan.configs().get(ProcessKind.LEARNER)).containsEntry("learner.group.id", "rlhf-learner");
        assertThat(plan.configs().get(ProcessKind.SCORER))
                .containsEntry("reward.stream.application.id", "rlhf-reward-stream");
        assertThat(plan.process("learn-0").group()).isEqualTo("rlhf-learner");
        assertThat(plan.process("score-0").group()).isEqualTo("rlhf-reward-stream");
    }

    @Test
    void aPlaintextPlanHoldsNoCredentials() {
        StackPlan plan = StackPlan.of(existing(null), "kafka:9092", "http://r");
        assertThat(plan.admin()).isEmpty();
        plan.configs().values().forEach(c -> assertThat(c).doesNotContainKey("sasl.jaas.config")
                .doesNotContainKey("security.protocol"));
        assertThat(plan.configs().get(ProcessKind.LEARNER)).containsEntry("learner.group.id", "rlhf-demo-learner");
    }

    @Test
    void missingClientFilesAreNamedAllAtOnce() throws IOException {
        Files.delete(clients.resolve("learner.properties"));
        Files.delete(clients.resolve("admin.properties"));
        assertThatThrownBy(() -> plan(existing(clients))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--config " + clients)
                .hasMessageContaining("no client properties for 2 users")
                .hasMessageContaining(clients.resolve("learner.properties").toString())
                .hasMessageContaining(clients.resolve("admin.properties").toString())
                .hasMessageContaining("rlhf cluster up --secure");
        // a stack without an RM trainer needs no rm-trainer file
        Files.delete(clients.resolve("rm-trainer.properties"));
        write("learner", "rlhf.");
        write("admin", "rlhf.");
        StackOptions noTrainer = new StackOptions(Path.of("/srv/stack"), "kafka:9092", "http://r", "rlhf.", 0, 1, 1,
                1, 0, 0, null, null, null, 2, 0, 0, 1, DemoOptions.defaults(), false, clients, 0);
        assertThat(plan(noTrainer).configs()).doesNotContainKey(ProcessKind.RM_TRAINER);
    }

    @Test
    void aClientFileOfAnotherTopicPrefixIsRefused() throws IOException {
        write("scorer", "prod.");
        assertThatThrownBy(() -> plan(existing(clients))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(clients.resolve("scorer.properties").toString())
                .hasMessageContaining("topic prefix 'prod.'").hasMessageContaining("--topic-prefix prod.");
    }

    @Test
    void badSecurityOptionsAreRefusedNamingTheAlternative() {
        DemoOptions demo = DemoOptions.defaults();
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), null, null, "rlhf.", 0, 1, 1, 1, 0, 0, null, null,
                null, 0, 0, 0, 3, demo, true, null, 0))
                .hasMessageContaining("--secure with --brokers 3")
                .hasMessageContaining("rlhf cluster up --secure --brokers 3")
                .hasMessageContaining("--config D/secure/clients");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), "kafka:9092", "http://r", "rlhf.", 0, 1, 1, 1, 0, 0,
                null, null, null, 0, 0, 0, 1, demo, true, null, 0)).hasMessageContaining("give --config DIR");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), null, null, "rlhf.", 0, 1, 1, 1, 0, 0, null, null,
                null, 0, 0, 0, 1, demo, false, clients, 0)).hasMessageContaining("give --bootstrap and --registry");
        assertThatThrownBy(() -> new StackOptions(Path.of("s"), "kafka:9092", "http://r", "rlhf.", 0, 1, 1, 1, 0, 0,
                null, null, null, 0, 0, 0, 1, demo, false, clients.resolve("nope"), 0))
                .hasMessageContaining("--config " + clients.resolve("nope") + ": no such directory");
    }

    @Test
    void theStacksOwnSecureClusterIsStartedWithSecure() {
        StackOptions own = new StackOptions(Path.of("/srv/stack"), null, null, "rlhf.", 0, 1, 1, 1, 0, 0, null, null,
                null, 2, 9092, 8081, 1, DemoOptions.defaults(), true, null, 0);
        assertThat(StackPlan.of(own, "", "").process("cluster").args()).containsSubsequence("cluster", "up")
                .contains("--secure");
        StackOptions plain = new StackOptions(Path.of("/srv/stack"), null, null, "rlhf.", 0, 1, 1, 1, 0, 0, null,
                null, null, 2, 9092, 8081, 1, DemoOptions.defaults());
        assertThat(StackPlan.of(plain, "", "").process("cluster").args()).doesNotContain("--secure");
    }

    @Test
    void theFeedbackServerRunsOnItsPortAndTheRatersPostToIt() {
        StackPlan plan = StackPlan.of(existing(null), "kafka:9092", "http://r");
        StackProcess feedback = plan.process("feedback");
        assertThat(feedback.args()).containsSubsequence("feedback", "serve", "--config",
                "/srv/stack/conf/feedback.properties").containsSubsequence("--port", "18088");
        // raters at 50 labels/s from one loopback address stay within the server's rate limit
        assertThat(feedback.args()).containsSubsequence("--rate", "100").containsSubsequence("--burst", "200");
        assertThat(feedback.restart()).isEqualTo(io.streamrlhf.loop.process.RestartingChildJvm.Restart.ALWAYS);
        assertThat(plan.process("raters").args()).containsSubsequence("--api", "http://127.0.0.1:18088");
        assertThat(plan.process("raters").sharedArgs()).doesNotContain("--api");
        assertThat(feedback.sharedArgs()).doesNotContain("--port", "--rate", "--burst");
        StackOptions noPort = new StackOptions(Path.of("/srv/stack"), "kafka:9092", "http://r", "rlhf.", 0, 1, 1, 1,
                0, 0, null, null, null, 2, 0, 0, 1, DemoOptions.defaults());
        assertThat(StackPlan.of(noPort, "kafka:9092", "http://r").process("feedback").args())
                .as("stack init plans the API's usual port").containsSubsequence("--port", "8088")
                .containsSubsequence("--rate", "5");
        assertThat(StackPlan.of(noPort, "kafka:9092", "http://r").processes()).extracting(StackProcess::name)
                .doesNotContain("raters");
    }

    @Test
    void eachStackProcessRunsAsTheUserOfItsComponent() {
        assertThat(ProcessKind.WORKER.user()).isEqualTo(Component.WORKER.user());
        assertThat(ProcessKind.SCORER.user()).isEqualTo(Component.SCORER.user());
        assertThat(ProcessKind.LEARNER.user()).isEqualTo(Component.LEARNER.user());
        assertThat(ProcessKind.RM_TRAINER.user()).isEqualTo(Component.RM_TRAINER.user());
        // the feedback server and the raters read generations and write feedback: both the feedback user's grants
        assertThat(ProcessKind.FEEDBACK.user()).isEqualTo(Component.FEEDBACK.user());
        assertThat(ProcessKind.RATERS.user()).isEqualTo(Component.FEEDBACK.user());
        // rlhf prompts writes prompts in rlhf-prompts-* transactions: the evaluator's grants
        assertThat(ProcessKind.PROMPTS.user()).isEqualTo(Component.EVALUATOR.user());
        assertThat(List.of(ProcessKind.CLUSTER, ProcessKind.BROKER, ProcessKind.REGISTRY))
                .allSatisfy(k -> assertThat(k.user()).isNull());
    }
}
