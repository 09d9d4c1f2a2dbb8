package io.streamrlhf.rewardstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.SourceFailurePolicy;
import io.streamrlhf.schemas.topics.DlqHeaders;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A reward server that is down: its records are dead-lettered with the reason, or wait, as configured. */
class RemoteScoringTest {
    private static final Duration HOUR = Duration.ofHours(1);

    /** A URL on a port that was free a moment ago: nothing answers there. */
    private static String deadUrl() throws Exception {
        HttpServer probe = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        int port = probe.getAddress().getPort();
        probe.stop(0);
        return "http://127.0.0.1:" + port + "/score;retries=1;backoff_ms=1;timeout_ms=500";
    }

    private static RewardEnsemble ensemble(String url, SourceFailurePolicy policy) {
        return RewardEnsemble.builder().add(RewardSources.create(RewardSpec.parse(url)))
                .normalization(NormalizationSettings.OFF).onSourceFailure(policy).build();
    }

    @Test
    void withDlqEveryRecordOfAFailedBatchIsDeadLetteredWithTheReason() throws Exception {
        try (TopologyHarness h = new TopologyHarness(ensemble(deadUrl(), SourceFailurePolicy.DLQ), 2, HOUR, HOUR)) {
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "one"));
            h.generations.pipeInput("p2", Fixtures.generation("g2", "p2", "two"));
            assertThat(h.scored.isEmpty()).isTrue();
            assertThat(h.generationsDlq.readRecordsToList()).hasSize(2).allSatisfy(r -> assertThat(
                    DlqHeaders.read(r.headers(), DlqHeaders.ERROR_MESSAGE)).contains("remote-127.0.0.1")
                    .contains("is unavailable"));
        }
    }

    @Test
    void withWaitAFailedBatchFailsTheTaskAndNothingIsWrittenAnywhere() throws Exception {
        try (TopologyHarness h = new TopologyHarness(ensemble(deadUrl(), SourceFailurePolicy.WAIT), 2, HOUR, HOUR)) {
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "one"));
            assertThatThrownBy(() -> h.generations.pipeInput("p2", Fixtures.generation("g2", "p2", "two")))
                    .hasStackTraceContaining("BatchFailedException").hasStackTraceContaining("remote-127.0.0.1");
            assertThat(h.scored.isEmpty()).isTrue();
            assertThat(h.generationsDlq.isEmpty()).isTrue();
        }
    }
}
