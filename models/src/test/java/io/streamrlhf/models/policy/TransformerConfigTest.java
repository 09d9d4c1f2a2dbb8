package io.streamrlhf.models.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.transformer.TransformerConfig;
import org.junit.jupiter.api.Test;

class TransformerConfigTest {

    @Test
    void validConfigGivesHeadWidth() {
        assertThat(new TransformerConfig(64, 64, 128, 2, 4).headDim()).isEqualTo(32);
    }

    @Test
    void eachBadFieldIsNamed() {
        assertThatThrownBy(() -> new TransformerConfig(1, 64, 128, 2, 4)).hasMessageContaining("vocabSize");
        assertThatThrownBy(() -> new TransformerConfig(64, 1, 128, 2, 4)).hasMessageContaining("contextLength");
        assertThatThrownBy(() -> new TransformerConfig(64, 64, 0, 2, 4)).hasMessageContaining("dModel");
        assertThatThrownBy(() -> new TransformerConfig(64, 64, 128, 0, 4)).hasMessageContaining("layers");
        assertThatThrownBy(() -> new TransformerConfig(64, 64, 130, 2, 4)).hasMessageContaining("not divisible");
    }
}
