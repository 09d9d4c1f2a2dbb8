package io.streamrlhf.learner.rm.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.learner.rm.RmTrainingConfig;
import io.streamrlhf.models.world.SyntheticWorld;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

/** The online trainer's settings: defaults, mapping to training settings, and errors naming the key. */
class OnlineRmConfigTest {

    @Test
    void defaultsDescribeAFourMemberBradleyTerryEnsemble() {
        OnlineRmConfig c = new OnlineRmConfig(Map.of());
        assertThat(c.method()).isEqualTo(RmMethod.BRADLEY_TERRY);
        assertThat(c.retrain()).isFalse();
        RmTrainingConfig t = c.training();
        assertThat(t.ensembleSize()).isEqualTo(4);
        assertThat(t.model().vocabSize()).isEqualTo(SyntheticWorld.standard().vocabulary().size());
        assertThat(t.model().dModel()).isEqualTo(32);
        assertThat(c.getInt(OnlineRmConfig.TRAIN_EVERY_PAIRS)).isEqualTo(64);
    }

    @Test
    void valuesMapToTrainingSettings() {
        OnlineRmConfig c = new OnlineRmConfig(Map.of(OnlineRmConfig.METHOD, "flip+margin", OnlineRmConfig.ENSEMBLE_SIZE,
                "3", OnlineRmConfig.D_MODEL, "24", OnlineRmConfig.HEADS, "3", OnlineRmConfig.MODE, "retrain",
                OnlineRmConfig.LEARNING_RATE, "0.01", "bootstrap.servers", "ignored:9092"));
        assertThat(c.method().name()).isEqualTo("flip+margin");
        assertThat(c.retrain()).isTrue();
        assertThat(c.training().ensembleSize()).isEqualTo(3);
        assertThat(c.training().model().heads()).isEqualTo(3);
        assertThat(c.training().learningRate()).isEqualTo(0.01);
    }

    @Test
    void invalidValuesNameTheirKey() {
        assertThatThrownBy(() -> new OnlineRmConfig(Map.of(OnlineRmConfig.METHOD, "flip+magic")))
                .hasMessageContaining("unknown reward-model method part 'magic'");
        assertThatThrownBy(() -> new OnlineRmConfig(Map.of(OnlineRmConfig.D_MODEL, "30", OnlineRmConfig.HEADS, "4")))
                .isInstanceOf(ConfigException.class).hasMessageContaining(OnlineRmConfig.D_MODEL);
        assertThatThrownBy(() -> new OnlineRmConfig(Map.of(OnlineRmConfig.MODE, "sometimes")))
                .isInstanceOf(ConfigException.class).hasMessageContaining(OnlineRmConfig.MODE);
        assertThatThrownBy(() -> new OnlineRmConfig(Map.of(OnlineRmConfig.ENSEMBLE_SIZE, "0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining(OnlineRmConfig.ENSEMBLE_SIZE);
    }
}
