package io.streamrlhf.rewardstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code http:local}: found in a spec list, pointed at the server, and scored through the real HTTP source. */
class LocalRewardServerTest {

    @Test
    void httpLocalIsResolvedToTheServerAndItsOptionsKept() {
        assertThat(LocalRewardServer.named("rule:length,http:local;batch=8")).isTrue();
        assertThat(LocalRewardServer.named("rule:length,http://127.0.0.1:9/score")).isFalse();
        assertThat(LocalRewardServer.resolve("rule:length,http:local;batch=8;name=srv", "http://127.0.0.1:5/score"))
                .isEqualTo("rule:length,http:http://127.0.0.1:5/score;batch=8;name=srv");
    }

    @Test
    void theRemoteSourceGetsEachResponsesLengthFromTheServer() throws Exception {
        try (LocalRewardServer server = LocalRewardServer.start(2);
             RewardSource source = RewardSources.createAll(RewardSpec.parseList(LocalRewardServer.resolve(
                     "http:local;batch=2", server.url()))).get(0)) {
            double[] scores = source.score(List.of(ScoringInput.of("a", "p", "abc"), ScoringInput.of("b", "p", ""),
                    ScoringInput.of("c", "p", "héllo")));

            assertThat(scores).containsExactly(3, 0, 5);
            assertThat(server.requests()).isEqualTo(2);  // batches of 2: two requests for three inputs
        }
    }

    @Test
    void aDelayedServerAnswersAfterItsDelay() throws Exception {
        try (LocalRewardServer server = LocalRewardServer.start(1, 50);
             RewardSource source = RewardSources.createAll(RewardSpec.parseList(LocalRewardServer.resolve(
                     "http:local", server.url()))).get(0)) {
            long start = System.nanoTime();
            assertThat(source.score(List.of(ScoringInput.of("a", "p", "ab")))).containsExactly(2);
            assertThat((System.nanoTime() - start) / 1e6).isGreaterThanOrEqualTo(50);
        }
    }
}
