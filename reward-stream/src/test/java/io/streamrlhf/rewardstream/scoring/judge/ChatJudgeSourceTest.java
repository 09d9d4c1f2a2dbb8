package io.streamrlhf.rewardstream.scoring.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChatJudgeSourceTest {

    @Test
    void readsPointwiseAndPairwiseVerdicts() {
        assertThat(ChatJudgeSource.number("8")).isEqualTo(8.0);
        assertThat(ChatJudgeSource.number("Rating: 7.5/10")).isEqualTo(7.5);
        assertThat(ChatJudgeSource.number("no idea")).isNaN();
        assertThat(ChatJudgeSource.letter("A")).isEqualTo(1.0);
        assertThat(ChatJudgeSource.letter(" B.")).isEqualTo(0.0);
        assertThat(ChatJudgeSource.letter("Answer: B")).isEqualTo(0.0);
        assertThat(ChatJudgeSource.letter("Both are bad")).isNaN();
    }

    @Test
    void settingsNameWhatIsWrong() {
        URI url = URI.create("http://localhost:1/v1/chat/completions");
        JudgeSettings d = JudgeSettings.defaults(url, "m");
        assertThat(d.mode()).isEqualTo(JudgeMode.POINTWISE);
        assertThatThrownBy(() -> new JudgeSettings(URI.create("file:/x"), "m", JudgeMode.POINTWISE, "s", "t", null,
                Duration.ofSeconds(1), 0, Duration.ZERO, 1, Duration.ofSeconds(1), 1, null))
                .hasMessageContaining("http(s) URL");
        assertThatThrownBy(() -> new JudgeSettings(url, "m", JudgeMode.POINTWISE, "s", "t", null,
                Duration.ofSeconds(1), -1, Duration.ZERO, 1, Duration.ofSeconds(1), 1, null))
                .hasMessageContaining("retries must be >= 0");
        assertThatThrownBy(() -> new JudgeSettings(url, "m", JudgeMode.POINTWISE, "s", "t", null,
                Duration.ofSeconds(1), 0, Duration.ZERO, 0, Duration.ofSeconds(1), 1, null))
                .hasMessageContaining("breaker_failures");
        assertThatThrownBy(() -> JudgeMode.parse("listwise")).hasMessageContaining("pointwise or pairwise");
    }

    @Test
    void aJudgeNobodyListensToFailsTheBatchAsUnavailable() {
        JudgeSettings s = new JudgeSettings(URI.create("http://127.0.0.1:9/v1/chat/completions"), "m",
                JudgeMode.POINTWISE, "s", "{response}", null, Duration.ofMillis(300), 1, Duration.ofMillis(5), 2,
                Duration.ofMinutes(1), 1, null);
        try (ChatJudgeSource judge = new ChatJudgeSource("j", 1, s)) {
            var batch = java.util.List.of(io.streamrlhf.rewardstream.scoring.ScoringInput.of("a", "p", "r"));
            assertThatThrownBy(() -> judge.score(batch))
                    .isInstanceOf(io.streamrlhf.rewardstream.scoring.SourceUnavailableException.class)
                    .hasMessageContaining("'j' is unavailable");
            assertThat(judge.circuitState().name()).isEqualTo("OPEN");
            assertThatThrownBy(() -> judge.score(batch)).hasMessageContaining("circuit breaker is open");
        }
    }
}
