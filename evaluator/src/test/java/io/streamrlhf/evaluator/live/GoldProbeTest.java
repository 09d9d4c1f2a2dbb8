package io.streamrlhf.evaluator.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.world.WorldPrompt;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The probe's held-out prompts, and its order of use. */
class GoldProbeTest {

    @Test
    void heldOutPromptsDependOnlyOnTheSeed() {
        List<WorldPrompt> a = GoldProbe.heldOutPrompts(1, 16);
        assertThat(a).hasSize(16).isEqualTo(GoldProbe.heldOutPrompts(1, 16));
        assertThat(GoldProbe.heldOutPrompts(2, 16)).isNotEqualTo(a);
    }

    @Test
    void aPolicyIsScoredOnlyOnceTheBaselineFixedTheProxysScale() {
        GoldProbe probe = new GoldProbe(GoldProbe.heldOutPrompts(1, 8), 8, 1, List.of());
        assertThatThrownBy(() -> probe.score(null)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("baseline()");
    }
}
