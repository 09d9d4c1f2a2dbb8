package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class PpoConfigTest {

    @Test
    void defaultsFollowPpoMax() {
        PpoConfig c = PpoConfig.defaults();
        assertThat(c.gamma()).isEqualTo(1.0);
        assertThat(c.lambda()).isEqualTo(0.95);
        assertThat(c.clipRange()).isEqualTo(0.2);
        assertThat(c.valueClip()).isEqualTo(0.2);
        assertThat(c.maxGradNorm()).isEqualTo(1.0);
        assertThat(c.maxStaleness()).isEqualTo(4);
        assertThat(c.estimator()).isEqualTo(PpoConfig.Estimator.GAE);
        assertThat(c.rewardScaling()).isTrue();
        assertThat(c.whitenAdvantages()).isTrue();
    }

    @Test
    void everyKeyHasADoc() {
        PpoConfig.DEFINITION.configKeys().values().forEach(k -> assertThat(k.documentation).as(k.name).isNotBlank());
        assertThat(PpoConfig.DEFINITION.names()).allMatch(n -> n.startsWith("ppo."));
    }

    @Test
    void parsesStringsAsAFileWould() {
        PpoConfig c = new PpoConfig(Map.of("ppo.advantage.estimator", "rloo", "ppo.epochs", "3", "ppo.kl.coef", "0.1"));
        assertThat(c.estimator()).isEqualTo(PpoConfig.Estimator.RLOO);
        assertThat(c.epochs()).isEqualTo(3);
        assertThat(c.klCoef()).isEqualTo(0.1);
        assertThat(c.with(PpoConfig.EPOCHS, 5).epochs()).isEqualTo(5);
    }

    @Test
    void rejectsBadValuesNamingTheKey() {
        assertThatThrownBy(() -> new PpoConfig(Map.of("ppo.advantage.estimator", "a2c")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("ppo.advantage.estimator");
        assertThatThrownBy(() -> new PpoConfig(Map.of("ppo.lambda", "1.5")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("ppo.lambda");
        assertThatThrownBy(() -> new PpoConfig(Map.of("ppo.epochs", "0")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("ppo.epochs");
    }
}
