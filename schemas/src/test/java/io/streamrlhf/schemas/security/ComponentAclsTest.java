package io.streamrlhf.schemas.security;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.security.ComponentAcls.Component;
import io.streamrlhf.schemas.security.ComponentAcls.Grant;
import io.streamrlhf.schemas.security.ComponentAcls.Ids;
import io.streamrlhf.schemas.topics.Topics;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

/** The ACL table: who may write the version topics, who reads what, and that nothing grants more than it names. */
class ComponentAclsTest {

    private final Topics topics = Topics.builder().prefix("rlhf.").registryUrl("mock://acls").build();

    @Test
    void onlyTheLearnerWritesPolicyVersionsAndOnlyTheRmTrainerRmVersions() {
        assertThat(writers("rlhf.policy.versions")).containsExactly(Component.LEARNER);
        assertThat(writers("rlhf.rm.versions")).containsExactly(Component.RM_TRAINER);
        assertThat(writers("rlhf.generations")).containsExactly(Component.WORKER);
        assertThat(writers("rlhf.scored")).containsExactly(Component.SCORER);
        assertThat(writers("rlhf.feedback")).containsExactly(Component.FEEDBACK);
        assertThat(writers("rlhf.checkpoints")).containsExactlyInAnyOrder(Component.LEARNER, Component.RM_TRAINER);
        assertThat(writers("rlhf.metrics")).containsExactlyInAnyOrder(Component.values());
    }

    @Test
    void readersAreThoseTheCatalogNames() {
        assertThat(readers("rlhf.preferences")).containsExactlyInAnyOrder(Component.RM_TRAINER, Component.EVALUATOR);
        assertThat(readers("rlhf.prompts")).containsExactlyInAnyOrder(Component.WORKER, Component.EVALUATOR);
        assertThat(readers("rlhf.scored")).containsExactlyInAnyOrder(Component.LEARNER, Component.EVALUATOR);
        assertThat(readers("rlhf.learner.lease")).containsExactly(Component.LEARNER);
        assertThat(readers("rlhf.policy.versions")).as("the scorer: a kafka: KL reference").containsExactlyInAnyOrder(
                Component.WORKER, Component.SCORER, Component.LEARNER, Component.EVALUATOR);
    }

    @Test
    void noGrantIsOnTheClusterOrAWildcardAndAllIsOnlyOnTheScorersOwnPrefixes() {
        List<Grant> grants = ComponentAcls.grants(topics);
        assertThat(grants).noneMatch(g -> g.type() == ResourceType.CLUSTER || g.name().equals("*")
                || g.name().isEmpty());
        assertThat(grants.stream().filter(g -> g.operations().contains(AclOperation.ALL)).map(Grant::name))
                .containsExactlyInAnyOrder("rlhf-reward-stream", "rlhf.rescored");
        assertThat(grants).allMatch(g -> g.type() == ResourceType.TOPIC && g.pattern() == PatternType.LITERAL
                || g.pattern() == PatternType.PREFIXED);
        assertThat(ComponentAcls.bindings(topics)).hasSize(grants.stream().mapToInt(g -> g.operations().size()).sum());
    }

    @Test
    void theTableHasOneRowPerGrantAndThePrefixFollowsTheCatalog() {
        String table = ComponentAcls.markdownTable(Topics.builder().prefix("loop2.").registryUrl("mock://t").build());
        assertThat(table.lines().count()).isEqualTo(2 + ComponentAcls.grants(topics).size());
        assertThat(table).contains("| `User:learner` | topic | `loop2.policy.versions` | WRITE |")
                .contains("| `User:worker` | transactional id | `rlhf-worker-*` | WRITE |")
                .doesNotContain("rlhf.policy.versions");
    }

    @Test
    void idsANamedApplicationAndLearnerGroupAreGrantedInsteadOfTheDefaults() {
        Ids demo = new Ids("rlhf-demo-reward-stream", "rlhf-demo-learner");
        List<Grant> grants = ComponentAcls.grants(topics, demo);
        assertThat(prefixed(grants, Component.SCORER, ResourceType.GROUP))
                .containsExactlyInAnyOrder("rlhf-demo-reward-stream", "rlhf-rescore-");
        assertThat(prefixed(grants, Component.SCORER, ResourceType.TRANSACTIONAL_ID))
                .containsExactlyInAnyOrder("rlhf-demo-reward-stream", "rlhf-rescore-");
        assertThat(prefixed(grants, Component.LEARNER, ResourceType.GROUP)).containsExactly("rlhf-demo-learner");
        assertThat(prefixed(grants, Component.LEARNER, ResourceType.TRANSACTIONAL_ID))
                .containsExactly("rlhf.rlhf-demo-learner");
        assertThat(grants.stream().map(Grant::name)).doesNotContain("rlhf-reward-stream", "rlhf-learner");
        // Everything else is the same table.
        assertThat(grants).hasSameSizeAs(ComponentAcls.grants(topics));
        assertThat(ComponentAcls.grants(topics, Ids.DEFAULTS)).isEqualTo(ComponentAcls.grants(topics));
        assertThatThrownBy(() -> new Ids("*", "rlhf-learner")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reward.stream.application.id");
        assertThatThrownBy(() -> new Ids("app", " ")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("learner.group.id");
    }

    private static List<String> prefixed(List<Grant> grants, Component component, ResourceType type) {
        return grants.stream().filter(g -> g.component() == component && g.type() == type
                && g.pattern() == PatternType.PREFIXED).map(Grant::name).toList();
    }

    private Set<Component> writers(String topic) {
        return holders(topic, AclOperation.WRITE);
    }

    private Set<Component> readers(String topic) {
        return holders(topic, AclOperation.READ);
    }

    private Set<Component> holders(String topic, AclOperation op) {
        return ComponentAcls.grants(topics).stream()
                .filter(g -> g.type() == ResourceType.TOPIC && g.pattern() == PatternType.LITERAL
                        && g.name().equals(topic) && g.operations().contains(op))
                .map(Grant::component).collect(Collectors.toSet());
    }
}
