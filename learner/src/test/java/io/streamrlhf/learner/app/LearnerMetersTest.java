package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.ops.PrometheusText;
import io.streamrlhf.ops.ServiceMeters;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The learner's figures reach Prometheus under cleanrl's names, with units, and the staleness histogram counts. */
class LearnerMetersTest {

    @Test
    void anUpdatesFiguresAreGaugesUnderCleanrlsNamesAndStalenessIsAHistogramInVersions() {
        AtomicBoolean leader = new AtomicBoolean(true);
        try (ServiceMeters service = ServiceMeters.create("learn")) {
            LearnerMeters meters = new LearnerMeters(service.component("learn"), "chat", leader::get);
            Map<String, Double> figures = new LinkedHashMap<>();
            figures.put("losses/policy_loss", -0.25);
            figures.put("losses/value_loss", 0.5);
            figures.put("losses/approx_kl", 0.01);
            figures.put("losses/clipfrac", 0.125);
            figures.put("policy/entropy", 2.5);
            figures.put("policy/kl_ref", 0.03);
            figures.put("reward/mean", 0.75);
            figures.put("time/update_s", 1.5);
            figures.put("not a figure", 9.0);
            meters.updated(figures);
            meters.trained(4, 5);
            meters.trained(5, 5);
            meters.trained(1, 5);
            meters.checkpointWritten(250_000_000L);
            meters.published(6);
            meters.published(5);  // an older version published late never lowers the gauge
            meters.deadLettered("rlhf.scored", new IllegalArgumentException("bad"));

            System.gc();  // Micrometer holds gauges' objects weakly: what they read must outlive a collection
            PrometheusText.Scrape scrape = PrometheusText.parse(service.scrape());
            Map<String, String> learn = Map.of("component", "learn");
            assertThat(scrape.sum("rlhf_learner_losses_policy_loss", learn)).isEqualTo(-0.25);
            assertThat(scrape.sum("rlhf_learner_losses_value_loss", learn)).isEqualTo(0.5);
            assertThat(scrape.sum("rlhf_learner_losses_approx_kl", learn)).isEqualTo(0.01);
            assertThat(scrape.sum("rlhf_learner_losses_clipfrac", learn)).isEqualTo(0.125);
            assertThat(scrape.sum("rlhf_learner_policy_entropy", learn)).isEqualTo(2.5);
            assertThat(scrape.sum("rlhf_learner_policy_kl_ref", learn)).isEqualTo(0.03);
            assertThat(scrape.sum("rlhf_learner_reward_mean", learn)).isEqualTo(0.75);
            assertThat(scrape.sum("rlhf_learner_time_update_seconds", learn)).isEqualTo(1.5);
            assertThat(scrape.names()).noneMatch(n -> n.contains("not"));
            assertThat(scrape.sum("rlhf_learner_updates_total", Map.of("policy", "chat"))).isEqualTo(1);
            // Staleness 1, 0 and 4 versions: cumulative buckets.
            assertThat(scrape.sum("rlhf_learner_staleness_versions_bucket", Map.of("le", "0.5"))).isEqualTo(1);
            assertThat(scrape.sum("rlhf_learner_staleness_versions_bucket", Map.of("le", "1.0"))).isEqualTo(2);
            assertThat(scrape.sum("rlhf_learner_staleness_versions_bucket", Map.of("le", "4.0"))).isEqualTo(3);
            assertThat(scrape.sum("rlhf_learner_staleness_versions_count", learn)).isEqualTo(3);
            assertThat(scrape.sum("rlhf_learner_staleness_versions_sum", learn)).isEqualTo(5);
            assertThat(scrape.sum("rlhf_learner_checkpoint_write_seconds_sum", learn)).isEqualTo(0.25);
            assertThat(scrape.sum("rlhf_learner_policy_version_published", learn)).isEqualTo(6);
            assertThat(scrape.sum("rlhf_learner_leader", learn)).isEqualTo(1);
            assertThat(scrape.sum("rlhf_dlq_records_total", Map.of("topic", "rlhf.scored",
                    "error", "IllegalArgumentException"))).isEqualTo(1);

            leader.set(false);
            assertThat(PrometheusText.parse(service.scrape()).sum("rlhf_learner_leader", learn)).isZero();
        }
    }

    @Test
    void figureNamesBecomeMeterNamesWithSecondsSpelledOut() {
        assertThat(LearnerMeters.meterName("losses/approx_kl")).isEqualTo("rlhf.learner.losses.approx_kl");
        assertThat(LearnerMeters.meterName("time/commit_s")).isEqualTo("rlhf.learner.time.commit_seconds");
    }
}
