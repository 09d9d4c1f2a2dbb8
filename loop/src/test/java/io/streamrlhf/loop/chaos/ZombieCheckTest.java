package io.streamrlhf.loop.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How a paused-then-resumed learner's publications are found without processes: on hand-built {@code policy.versions}
 * contents and log lines in the learner's own format, and how the chaos report carries and judges them.
 */
class ZombieCheckTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Lines a learner's log holds, as {@code rlhf learn} writes them. */
    private static final String PUBLISHED = "11:09:16.236 INFO  [learner-checkpoint-writer] "
            + "i.s.learner.app.LearnerService - published policy version 7 at file:///tmp/stack/learner/v7/policy/";
    private static final String LOST = "11:09:30.101 WARN  [learner-lease] i.s.learner.lease.LearnerLease - the lease "
            + "rlhf.learner.lease-0 was lost (this learner was presumed dead, a successor may already be active): "
            + "stopping at once; fencing refuses whatever this learner still tries to publish";
    private static final String FENCED = "11:09:30.480 ERROR [main] i.s.learner.app.LearnerService - this learner was "
            + "fenced by a newer leader and stops without publishing: Producer fenced";
    private static final String STANDING_BY = "11:09:40.002 INFO  [main] i.s.learner.app.LearnerService - standing by "
            + "for the lease of policy policy (group rlhf-demo-learner-lease, session timeout 10000 ms)";

    @Test
    void aVersionRepeatedOrSteppedBackAfterTheResumeIsTheZombiesAndOneThatRisesIsNot() {
        List<Long> atResume = List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L);  // the zombie held 5 when stopped
        assertThat(ZombieCheck.repeatedAfter(atResume, List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L)))
                .as("the successor going on").isZero();
        assertThat(ZombieCheck.repeatedAfter(atResume, List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 6L, 9L)))
                .as("the zombie's 6 after the successor's 8").isEqualTo(1);
        assertThat(ZombieCheck.repeatedAfter(atResume, List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 6L, 7L)))
                .isEqualTo(2);
        assertThat(ZombieCheck.repeatedAfter(atResume, List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 8L)))
                .as("the same number again").isEqualTo(1);
        // a repeat from before the pause is the audit's (duplicated), not the zombie's
        assertThat(ZombieCheck.repeatedAfter(List.of(1L, 2L, 2L, 3L), List.of(1L, 2L, 2L, 3L, 4L))).isZero();
        assertThat(ZombieCheck.repeats(List.of())).isZero();
        assertThat(ZombieCheck.repeats(List.of(3L, 1L, 2L, 4L))).isEqualTo(2);
    }

    @Test
    void itsLogTellsAPublicationFromALostLeaseAndAFencedCommit() {
        assertThat(ZombieCheck.publishLines(List.of(PUBLISHED, LOST, STANDING_BY), "policy")).isEqualTo(1);
        assertThat(ZombieCheck.publishLines(List.of(PUBLISHED), "other-policy")).isZero();
        assertThat(ZombieCheck.publishLines(List.of(LOST, FENCED, STANDING_BY), "policy")).isZero();
        assertThat(ZombieCheck.saysLeaseLost(List.of(LOST))).isTrue();
        assertThat(ZombieCheck.saysLeaseLost(List.of(FENCED))).isTrue();
        assertThat(ZombieCheck.saysLeaseLost(List.of("... - not committing the 1 update(s) since version 5: this "
                + "learner no longer holds the lease"))).isTrue();
        assertThat(ZombieCheck.saysLeaseLost(List.of(PUBLISHED, STANDING_BY))).isFalse();
    }

    @Test
    void aZombieThatPublishedOrWasNotReplacedMakesTheRunFail() {
        ZombieCheck fenced = check(14.2, 0, 0);
        assertThat(fenced.clean()).isTrue();
        assertThat(fenced.publishedAfterResume()).isZero();
        assertThat(check(14.2, 1, 0).clean()).as("a repeated version on the topic").isFalse();
        assertThat(check(14.2, 0, 1).clean()).as("a publication in its log").isFalse();
        assertThat(check(14.2, 1, 1).publishedAfterResume()).as("one publication seen from both sides").isEqualTo(1);
        assertThat(check(-1, 0, 0).clean()).as("no version while it was stopped").isFalse();

        Audit.Findings nothingWrong = Audit.of(new Audit.Input("p", "g", "s", List.of(), List.of(), List.of(),
                List.of(), List.of(), List.of(), List.of(), Map.of(), Map.of(), List.of()));
        assertThat(report(nothingWrong, null).clean()).as("no pause").isTrue();
        assertThat(report(nothingWrong, fenced).clean()).isTrue();
        assertThat(report(nothingWrong, check(14.2, 0, 1)).clean()).isFalse();
    }

    @Test
    void theReportCarriesTheZombieAfterEveryEarlierField() throws Exception {
        Audit.Findings f = Audit.of(new Audit.Input("p", "g", "s", List.of(), List.of(), List.of(), List.of(),
                List.of(), List.of(), List.of(), Map.of("policy", List.of(1L, 2L)), Map.of(), List.of()));
        JsonNode json = JSON.readTree(report(f, check(14.2, 0, 0)).toJson());
        List<String> keys = new ArrayList<>();
        json.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).startsWith("kills", "kills_by_kind", "broker_kills", "registry_outages", "prompts", "lost",
                "duplicated", "stuck", "max_recovery_s", "dlq").contains("recovery_s_by_kind", "unrecovered", "seed",
                "policy_version", "rm_version", "scaled", "drain_s", "restarts", "problems", "zombie");
        JsonNode z = json.get("zombie");
        assertThat(z.get("learner").asText()).isEqualTo("learn-0");
        assertThat(z.get("paused_s").asDouble()).isEqualTo(16.3);
        assertThat(z.get("takeover_s").asDouble()).isEqualTo(14.2);
        assertThat(z.get("lease_moved_s").asDouble()).isEqualTo(11.0);
        assertThat(z.get("published_after_resume").asInt()).isZero();
        assertThat(z.get("versions_while_paused").asInt()).isEqualTo(3);
        assertThat(z.get("lost_lease_logged").asBoolean()).isTrue();
        assertThat(z.get("exited_s").asDouble()).isEqualTo(0.8);
        assertThat(z.get("successor_leads").asBoolean()).isTrue();
        assertThat(JSON.readTree(report(f, null).toJson()).get("zombie").isNull()).as("no pause").isTrue();
    }

    private static ZombieCheck check(double takeoverS, int repeated, int publishLines) {
        return new ZombieCheck("learn-0", 4242, 2.5, 16.3, 11.04, takeoverS, 3, 0.84, 2, repeated, publishLines, true,
                true);
    }

    private static ChaosReport report(Audit.Findings f, ZombieCheck zombie) {
        return new ChaosReport(7, List.of(new ChaosReport.Done(ChaosKind.WORKER, "worker-0", 1, 3.0, 12.0)), List.of(),
                2, -1, f, 30.0, Map.of("worker-0", 1), zombie);
    }
}
