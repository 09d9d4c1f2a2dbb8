package io.streamrlhf.schemas.security;

import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The least-privilege ACLs of a secure StreamRLHF cluster: each component's principal reads and writes exactly the
 * topics the catalog says it reads and writes ({@code docs/topics.md}, "written by" and "read by"), uses exactly its
 * own consumer groups and transactional ids, and nothing else. Nobody but the super user {@code admin} creates or
 * deletes catalog topics or changes ACLs.
 *
 * <p>Group and transactional-id prefixes are the components' defaults (the ids they derive from a policy name or
 * a random suffix), or those of {@link Ids} for the two a deployment commonly names itself (the demo profile does);
 * a deployment that sets its own {@code worker.group.id} or {@code learner.transactional.id} must grant those.
 */
public final class ComponentAcls {

    /** The scorer's Kafka Streams application id ({@code RewardStreamConfig}'s default). */
    static final String SCORER_APPLICATION_ID = "rlhf-reward-stream";
    /** The learner's consumer group ({@code LearnerConfig}'s default {@code learner.group.id}). */
    static final String LEARNER_GROUP_ID = "rlhf-learner";

    /**
     * The ids the scorer and the learner derive their groups, transactional ids and internal topics from.
     *
     * @param scorerApplicationId the reward stream's {@code reward.stream.application.id}: its consumer group, its
     *                            transactional ids and its internal topics are named after it
     * @param learnerGroupId      the learner's {@code learner.group.id}: its group, {@code <group>-lease}, and the
     *                            transactional id {@code <topic.prefix><group>-<policy>}
     */
    public record Ids(String scorerApplicationId, String learnerGroupId) {

        /** The components' own defaults, what {@code rlhf cluster up --secure} grants. */
        public static final Ids DEFAULTS = new Ids(SCORER_APPLICATION_ID, LEARNER_GROUP_ID);

        /** Checks that both ids are names a prefixed ACL can hold. */
        public Ids {
            for (String[] id : new String[][] {{"reward.stream.application.id", scorerApplicationId},
                    {"learner.group.id", learnerGroupId}}) {
                if (id[1] == null || id[1].isBlank() || id[1].equals("*")) {
                    throw new IllegalArgumentException(id[0] + " must be a non-empty id other than '*', got '"
                            + id[1] + "'");
                }
            }
        }
    }

    /** A component and the SCRAM user it runs as. */
    public enum Component {
        WORKER("worker", "rlhf worker, rlhf bench worker"),
        SCORER("scorer", "rlhf score, rlhf rescore, rlhf bench scoring"),
        LEARNER("learner", "rlhf learn"),
        RM_TRAINER("rm-trainer", "rlhf train-rm"),
        FEEDBACK("feedback", "rlhf feedback serve|import|simulate"),
        EVALUATOR("evaluator", "rlhf eval, rlhf prompts, rlhf replay, rlhf export");

        private final String user;
        private final String commands;

        Component(String user, String commands) {
            this.user = user;
            this.commands = commands;
        }

        /** The SCRAM user name, also the name of the component's properties file. */
        public String user() {
            return user;
        }

        /** {@code User:NAME}, as ACLs name it. */
        public String principal() {
            return "User:" + user;
        }

        /** The commands that run as this component. */
        public String commands() {
            return commands;
        }

        /** Every component's SCRAM user. */
        public static List<String> users() {
            return java.util.Arrays.stream(values()).map(Component::user).toList();
        }
    }

    /**
     * One row of the ACL table: what {@code component} may do on a resource.
     *
     * @param why the reason, for the table in {@code docs/security.md}
     */
    public record Grant(Component component, ResourceType type, String name, PatternType pattern,
                        Set<AclOperation> operations, String why) {

        /** The grant as Kafka ACL bindings, one per operation, from any host. */
        public List<AclBinding> bindings() {
            ResourcePattern resource = new ResourcePattern(type, name, pattern);
            return operations.stream().sorted()
                    .map(op -> new AclBinding(resource, new AccessControlEntry(component.principal(), "*", op,
                            AclPermissionType.ALLOW)))
                    .toList();
        }
    }

    private ComponentAcls() {
    }

    /** Every grant for the catalog {@code topics} (its prefix included) and the default ids, component by component. */
    public static List<Grant> grants(Topics topics) {
        return grants(topics, Ids.DEFAULTS);
    }

    /** Every grant for the catalog {@code topics} (its prefix included) and {@code ids}, component by component. */
    public static List<Grant> grants(Topics topics, Ids ids) {
        String prefix = topics.prefix();
        List<Grant> grants = new ArrayList<>();
        Builder worker = new Builder(grants, Component.WORKER);
        worker.read(topics.prompts(), "prompts to generate for");
        worker.read(topics.policyVersions(), "hot swap");
        worker.read(topics.checkpoints(), "weights of a new version");
        worker.write(topics.generations(), "its output, in the prompt transaction");
        worker.write(topics.dlq(topics.prompts()), "unreadable prompts");
        worker.write(topics.dlq(topics.policyVersions()), "unreadable versions");
        worker.read(topics.dlq(topics.policyVersions()), "dead letters sent before a restart (not sent again)");
        worker.group("rlhf-workers-", "rlhf-workers-<policy> (WorkerConfig)");
        worker.transactionalId("rlhf-worker-", "rlhf-worker-<policy>-<worker id> (WorkerConfig)");

        Builder scorer = new Builder(grants, Component.SCORER);
        scorer.read(topics.generations(), "what it scores");
        scorer.read(topics.feedback(), "labels joined with generations");
        scorer.read(topics.rmVersions(), "reward-model hot swap");
        scorer.read(topics.checkpoints(), "reward-model weights, a kafka: KL reference's weights");
        scorer.read(topics.policyVersions(), "a kafka: KL reference (scoring.reference.checkpoint)");
        scorer.write(topics.scored(), "its output (exactly_once_v2)");
        scorer.write(topics.preferences(), "pairs made from feedback");
        scorer.write(topics.dlq(topics.generations()), "unreadable generations");
        scorer.write(topics.dlq(topics.feedback()), "unreadable feedback");
        grants.add(new Grant(Component.SCORER, ResourceType.TOPIC, ids.scorerApplicationId(), PatternType.PREFIXED,
                EnumSet.of(AclOperation.ALL), "Kafka Streams' internal topics and the norm-stats topic"));
        scorer.group(ids.scorerApplicationId(), "the Streams application id");
        scorer.transactionalId(ids.scorerApplicationId(), "Streams' exactly_once_v2 producers");
        grants.add(new Grant(Component.SCORER, ResourceType.TOPIC, prefix + "rescored", PatternType.PREFIXED,
                EnumSet.of(AclOperation.ALL), "rlhf rescore --to " + prefix + "rescored... (and its .dlq)"));
        scorer.group("rlhf-rescore-", "rlhf rescore's group");
        scorer.transactionalId("rlhf-rescore-", "rlhf rescore's producer");

        Builder learner = new Builder(grants, Component.LEARNER);
        learner.read(topics.scored(), "PPO samples");
        learner.read(topics.policyVersions(), "the newest version already published");
        learner.read(topics.checkpoints(), "resuming, taking over");
        learner.read(topics.learnerLease(), "standby learners");
        learner.write(topics.policyVersions(), "publishing versions (only the learner)");
        learner.write(topics.checkpoints(), "policy weights and learner state");
        learner.write(topics.learnerLease(), "takeover records");
        learner.write(topics.dlq(topics.scored()), "unusable scored records");
        learner.group(ids.learnerGroupId(), "learner.group.id and <group>-lease (LearnerConfig)");
        learner.transactionalId(prefix + ids.learnerGroupId(), "<prefix><group>-<policy> (LearnerConfig)");

        Builder rmTrainer = new Builder(grants, Component.RM_TRAINER);
        rmTrainer.read(topics.preferences(), "training pairs");
        rmTrainer.read(topics.generations(), "MetaRM samples");
        rmTrainer.read(topics.rmVersions(), "the newest version already published");
        rmTrainer.read(topics.checkpoints(), "resuming");
        rmTrainer.write(topics.rmVersions(), "publishing reward models (only the RM trainer)");
        rmTrainer.write(topics.checkpoints(), "reward-model weights");
        rmTrainer.write(topics.preferences(), "MetaRM write-back");
        rmTrainer.write(topics.dlq(topics.preferences()), "unreadable pairs");
        rmTrainer.read(topics.dlq(topics.preferences()), "dead letters sent before a restart (not sent again)");

        Builder feedback = new Builder(grants, Component.FEEDBACK);
        feedback.read(topics.generations(), "the candidates a rater sees");
        feedback.write(topics.feedback(), "labels");
        feedback.transactionalId("rlhf-feedback-import-", "rlhf feedback import");

        Builder evaluator = new Builder(grants, Component.EVALUATOR);
        for (TopicSpec<?, ?> read : List.of(topics.prompts(), topics.generations(), topics.scored(),
                topics.feedback(), topics.preferences(), topics.policyVersions(), topics.rmVersions(),
                topics.checkpoints(), topics.metrics())) {
            evaluator.read(read, "evaluation, replay, export, the live monitor");
        }
        evaluator.write(topics.prompts(), "prompt feeders and benchmark prompts");
        evaluator.transactionalId("rlhf-prompts-", "rlhf prompts");
        evaluator.transactionalId("rlhf-eval-publish-", "benchmark prompts");

        for (Component component : Component.values()) {
            new Builder(grants, component).write(topics.metrics(), "its metric events");
        }
        return List.copyOf(grants);
    }

    /** Every grant as Kafka ACL bindings, for {@code Admin.createAcls}. */
    public static List<AclBinding> bindings(Topics topics) {
        return bindings(topics, Ids.DEFAULTS);
    }

    /** Every grant for {@code ids} as Kafka ACL bindings, for {@code Admin.createAcls}. */
    public static List<AclBinding> bindings(Topics topics, Ids ids) {
        return grants(topics, ids).stream().flatMap(g -> g.bindings().stream()).toList();
    }

    /**
     * Creates every binding on the cluster (as a super user); creating one that exists does nothing, so this is
     * also what a restart does.
     *
     * @return the number of bindings
     * @throws IllegalStateException naming the cause when the cluster refuses or does not answer in {@code timeout}
     */
    public static int apply(Admin admin, Topics topics, Duration timeout) {
        return apply(admin, topics, Ids.DEFAULTS, timeout);
    }

    /**
     * Creates every binding for {@code ids} on the cluster (as a super user), as
     * {@link #apply(Admin, Topics, Duration)} does for the defaults.
     *
     * @return the number of bindings
     * @throws IllegalStateException naming the cause when the cluster refuses or does not answer in {@code timeout}
     */
    public static int apply(Admin admin, Topics topics, Ids ids, Duration timeout) {
        List<AclBinding> bindings = bindings(topics, ids);
        try {
            admin.createAcls(bindings).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("could not create the components' ACLs: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the components' ACLs", e);
        }
        return bindings.size();
    }

    /** The grants as a Markdown table, one row per component and resource (what {@code docs/security.md} shows). */
    public static String markdownTable(Topics topics) {
        StringBuilder table = new StringBuilder("| principal | resource | name | operations | why |\n|---|---|---|---|---|\n");
        for (Grant g : grants(topics)) {
            table.append("| `").append(g.component().principal()).append("` | ")
                    .append(g.type().name().toLowerCase(Locale.ROOT).replace('_', ' ')).append(" | `")
                    .append(g.name()).append(g.pattern() == PatternType.PREFIXED ? "*" : "").append("` | ")
                    .append(g.operations().stream().map(Enum::name).sorted().collect(Collectors.joining(", ")))
                    .append(" | ").append(g.why()).append(" |\n");
        }
        return table.toString();
    }

    /** Adds one component's grants. */
    private record Builder(List<Grant> grants, Component component) {

        void read(TopicSpec<?, ?> topic, String why) {
            grants.add(new Grant(component, ResourceType.TOPIC, topic.name(), PatternType.LITERAL,
                    EnumSet.of(AclOperation.READ), why));
        }

        void write(TopicSpec<?, ?> topic, String why) {
            grants.add(new Grant(component, ResourceType.TOPIC, topic.name(), PatternType.LITERAL,
                    EnumSet.of(AclOperation.WRITE), why));
        }

        void group(String namePrefix, String why) {
            grants.add(new Grant(component, ResourceType.GROUP, namePrefix, PatternType.PREFIXED,
                    EnumSet.of(AclOperation.READ), why));
        }

        void transactionalId(String namePrefix, String why) {
            grants.add(new Grant(component, ResourceType.TRANSACTIONAL_ID, namePrefix, PatternType.PREFIXED,
                    EnumSet.of(AclOperation.WRITE), why));
        }
    }
}
