package io.streamrlhf.loop.demo;

import io.streamrlhf.embedded.ClusterSecurity;
import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.schemas.security.ComponentAcls;
import io.streamrlhf.schemas.security.ComponentAcls.Component;
import io.streamrlhf.schemas.topics.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Which Kafka principal each part of a demo run connects as.
 *
 * <p>On the plaintext embedded cluster every part gets the cluster's settings as they are. On a secure one
 * ({@code rlhf demo --secure}: TLS, SASL/SCRAM-SHA-512 and {@link ComponentAcls}' least-privilege ACLs, the cluster
 * {@code rlhf cluster up --secure} makes) each part connects as the component whose work it does, with that
 * component's SCRAM user and no other credentials:
 *
 * <pre>
 * part of the demo                                   principal
 * reward stream                                      User:scorer
 * PPO learner                                        User:learner
 * policy workers                                     User:worker
 * online reward-model trainer (its --config file)    User:rm-trainer
 * simulated raters                                   User:feedback
 * prompt feeder, topic monitor                       User:evaluator  (it reads every topic, writes prompts)
 * topics, schemas, ACLs, dead-letter count, lag      User:admin      (no component may create topics or read
 *                                                                     every dead-letter topic and group)
 * </pre>
 *
 * <p>The ACLs are granted for the demo profile's own ids ({@code reward.stream.application.id},
 * {@code learner.group.id}), which differ from the components' defaults. The secure material (a CA, the broker
 * certificate, a random password per user) is made for each run in a temporary directory, readable by its owner
 * only, and deleted by {@link #close()}.
 */
public final class DemoPrincipals implements AutoCloseable {

    private static final Duration ACL_TIMEOUT = Duration.ofSeconds(60);

    private final ClusterSecurity security;
    private final ComponentAcls.Ids ids;

    private DemoPrincipals(ClusterSecurity security, ComponentAcls.Ids ids) {
        this.security = security;
        this.ids = ids;
    }

    /** Every part with the cluster's settings as they are: the embedded cluster without security. */
    public static DemoPrincipals plaintext() {
        return new DemoPrincipals(null, ComponentAcls.Ids.DEFAULTS);
    }

    /**
     * New secure material (CA, broker certificate, a user per component and admin) in a new temporary directory, and
     * the ACLs' ids from {@code profile}.
     */
    public static DemoPrincipals secure(DemoProfile profile) {
        Path dir;
        try {
            dir = Files.createTempDirectory("rlhf-demo-secure-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the demo cluster's keys", e);
        }
        return secure(ClusterSecurity.createOrLoad(dir, Component.users()), profile);
    }

    /** The principals of {@code security}'s users, and the ACLs' ids from {@code profile}. */
    static DemoPrincipals secure(ClusterSecurity security, DemoProfile profile) {
        return new DemoPrincipals(security, new ComponentAcls.Ids(profile.get(RewardStreamConfig.APPLICATION_ID),
                profile.get(LearnerConfig.GROUP_ID)));
    }

    /** Whether the cluster is secure (each part its own user). */
    public boolean secure() {
        return security != null;
    }

    /** The brokers' TLS, users and authorizer, for {@code EmbeddedCluster.Builder.security}; empty when plaintext. */
    public Optional<ClusterSecurity> security() {
        return Optional.ofNullable(security);
    }

    /** The ids the ACLs are granted for. */
    public ComponentAcls.Ids ids() {
        return ids;
    }

    /** The reward stream's settings: {@code settings} as {@link Component#SCORER}. */
    public Map<String, Object> rewardStream(Map<String, ?> settings) {
        return as(Component.SCORER, settings);
    }

    /** The learner's settings: {@code settings} as {@link Component#LEARNER}. */
    public Map<String, Object> learner(Map<String, ?> settings) {
        return as(Component.LEARNER, settings);
    }

    /** The policy workers' settings: {@code settings} as {@link Component#WORKER}. */
    public Map<String, Object> worker(Map<String, ?> settings) {
        return as(Component.WORKER, settings);
    }

    /** The reward-model trainer's {@code --config} file: {@code settings} as {@link Component#RM_TRAINER}. */
    public Map<String, String> trainer(Map<String, String> settings) {
        Map<String, String> out = new LinkedHashMap<>();
        as(Component.RM_TRAINER, settings).forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }

    /** The simulated raters' settings: {@code settings} as {@link Component#FEEDBACK}. */
    public Map<String, Object> raters(Map<String, ?> settings) {
        return as(Component.FEEDBACK, settings);
    }

    /** The prompt feeder's settings: {@code settings} as {@link Component#EVALUATOR}. */
    public Map<String, Object> prompts(Map<String, ?> settings) {
        return as(Component.EVALUATOR, settings);
    }

    /** The topic monitor's settings: {@code settings} as {@link Component#EVALUATOR}, which reads every topic. */
    public Map<String, Object> monitor(Map<String, ?> settings) {
        return as(Component.EVALUATOR, settings);
    }

    /** Administration (topics, schemas, ACLs, the dead-letter count, consumer lag): {@code settings} as admin. */
    public Map<String, Object> admin(Map<String, ?> settings) {
        Map<String, Object> out = withoutCredentials(settings);
        if (security != null) {
            out.putAll(security.clientProperties(ClusterSecurity.ADMIN_USER));
        }
        return out;
    }

    /**
     * {@code settings} with no principal's credentials: what the parts' settings are made from, so that a part that
     * was not given its own principal fails to connect instead of running as another.
     */
    public static Map<String, Object> withoutCredentials(Map<String, ?> settings) {
        Map<String, Object> out = new HashMap<>();
        settings.forEach((k, v) -> {
            if (!isCredential(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /**
     * Creates the components' ACLs for {@code topics} and {@link #ids()}, as admin over {@code adminSettings}'s
     * cluster; nothing when plaintext.
     *
     * @return the ACL bindings created (0 when plaintext)
     */
    public int grant(Map<String, ?> adminSettings, Topics topics) {
        if (security == null) {
            return 0;
        }
        Map<String, Object> props = new HashMap<>();
        admin(adminSettings).forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        try (Admin admin = Admin.create(props)) {
            return ComponentAcls.apply(admin, topics, ids, ACL_TIMEOUT);
        }
    }

    /** One line for people: who the parts run as. */
    public String describe() {
        if (security == null) {
            return "plaintext cluster: every component connects without credentials";
        }
        return "secure cluster (TLS, SASL/SCRAM-SHA-512, least-privilege ACLs): reward stream as User:scorer, learner "
                + "as User:learner, workers as User:worker, reward-model trainer as User:rm-trainer and raters as "
                + "User:feedback (where the run has them), prompts and monitor as User:evaluator, topics and ACLs as "
                + "User:admin";
    }

    /** Deletes the secure material (after the cluster has stopped); nothing when plaintext. */
    @Override
    public void close() {
        if (security == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(security.dir())) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // A directory left behind holds only this run's keys, readable by its owner.
        }
    }

    private Map<String, Object> as(Component component, Map<String, ?> settings) {
        Map<String, Object> out = withoutCredentials(settings);
        if (security != null) {
            out.putAll(security.clientProperties(component.user()));
        }
        return out;
    }

    private static boolean isCredential(String key) {
        return key.equals(AdminClientConfig.SECURITY_PROTOCOL_CONFIG) || key.startsWith("sasl.")
                || key.startsWith("ssl.");
    }
}
