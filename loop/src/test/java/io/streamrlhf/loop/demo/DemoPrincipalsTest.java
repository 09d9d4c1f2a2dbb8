package io.streamrlhf.loop.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.ClusterSecurity;
import io.streamrlhf.schemas.security.ComponentAcls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which principal each part of the demo runs as: on a secure cluster each part's settings carry its own component's
 * SCRAM user and no other's (admin's included), whatever credentials the map it is made from held; on a plaintext one
 * the settings are the cluster's as they were.
 */
class DemoPrincipalsTest {

    @TempDir Path dir;

    private final Map<String, Object> cluster = Map.of("bootstrap.servers", "localhost:9092",
            "schema.registry.url", "http://localhost:8081", "topic.prefix", "rlhf.", "worker.policy.name", "policy");

    @Test
    void eachPartOfTheDemoConnectsAsItsOwnComponent() {
        ClusterSecurity security = ClusterSecurity.createOrLoad(dir, ComponentAcls.Component.users());
        DemoPrincipals principals = DemoPrincipals.secure(security, DemoProfile.demo());
        // Made from settings that hold admin's credentials (the catalog's): none of them may survive.
        Map<String, Object> withAdmin = new HashMap<>(cluster);
        withAdmin.putAll(security.clientProperties(ClusterSecurity.ADMIN_USER));

        Map<String, Function<Map<String, Object>, Map<String, ?>>> parts = Map.of(
                "scorer", principals::rewardStream,
                "learner", principals::learner,
                "worker", principals::worker,
                "rm-trainer", s -> principals.trainer(strings(s)),
                "feedback", principals::raters,
                "evaluator", principals::prompts,
                "admin", principals::admin);
        for (var part : parts.entrySet()) {
            Map<String, Object> settings = new HashMap<>(part.getValue().apply(withAdmin));
            assertThat(settings).as(part.getKey())
                    .containsAllEntriesOf(security.clientProperties(part.getKey()))
                    .containsEntry("security.protocol", "SASL_SSL")
                    .containsEntry("bootstrap.servers", "localhost:9092")
                    .containsEntry("worker.policy.name", "policy");
            assertThat(String.valueOf(settings.get("sasl.jaas.config"))).as(part.getKey())
                    .contains("username=\"" + part.getKey() + "\"");
        }
        assertThat(principals.monitor(withAdmin)).isEqualTo(principals.prompts(withAdmin));
        assertThat(principals.worker(withAdmin).get("sasl.jaas.config"))
                .isNotEqualTo(withAdmin.get("sasl.jaas.config"));
        assertThat(principals.trainer(strings(withAdmin))).as("the trainer's --config file: strings only")
                .allSatisfy((k, v) -> assertThat(v).isInstanceOf(String.class));
    }

    @Test
    void theAclsAreGrantedForTheDemoProfilesOwnIds() {
        DemoPrincipals principals = DemoPrincipals.secure(
                ClusterSecurity.createOrLoad(dir, ComponentAcls.Component.users()), DemoProfile.demo());
        assertThat(principals.ids()).isEqualTo(new ComponentAcls.Ids("rlhf-demo-reward-stream", "rlhf-demo-learner"));
        assertThat(principals.secure()).isTrue();
        assertThat(principals.describe()).contains("reward stream as User:scorer", "raters as User:feedback");
    }

    @Test
    void plaintextLeavesTheClusterSettingsAsTheyAre() {
        DemoPrincipals plain = DemoPrincipals.plaintext();
        assertThat(plain.secure()).isFalse();
        assertThat(plain.security()).isEmpty();
        for (Map<String, ?> settings : List.of(plain.rewardStream(cluster), plain.learner(cluster),
                plain.worker(cluster), plain.raters(cluster), plain.prompts(cluster), plain.monitor(cluster),
                plain.admin(cluster))) {
            assertThat(settings).isEqualTo(cluster);
        }
        assertThat(plain.grant(cluster, null)).as("no ACLs, no connection").isZero();
    }

    @Test
    void withoutCredentialsDropsEverySecurityKeyAndCloseDeletesTheKeys() {
        DemoPrincipals principals = DemoPrincipals.secure(DemoProfile.demo());
        Path keys = principals.security().orElseThrow().dir();
        assertThat(keys.resolve("users.properties")).exists();
        Map<String, Object> admin = principals.admin(cluster);
        assertThat(DemoPrincipals.withoutCredentials(admin)).isEqualTo(cluster);
        principals.close();
        assertThat(Files.exists(keys)).as("the run's keys are gone").isFalse();
    }

    private static Map<String, String> strings(Map<String, Object> settings) {
        Map<String, String> out = new HashMap<>();
        settings.forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }
}
