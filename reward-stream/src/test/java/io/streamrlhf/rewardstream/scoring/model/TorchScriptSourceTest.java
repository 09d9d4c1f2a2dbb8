package io.streamrlhf.rewardstream.scoring.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code torchscript:FILE} against golden outputs: the tiny TorchScript reward model and the scores PyTorch gave for
 * three rows when it was exported (the models module's fixture, copied here).
 */
class TorchScriptSourceTest {

    @Test
    void scoresMatchThoseRecordedAtExport() throws Exception {
        Path dir = Path.of(getClass().getResource("/torchscript/expected.json").toURI()).getParent();
        JsonNode expected = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
        int[] realLengths = {8, 8, 5};
        List<ScoringInput> inputs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int[] row = new int[realLengths[i]];
            for (int j = 0; j < row.length; j++) {
                row[j] = expected.get("tokens").get(i).get(j).asInt();
            }
            inputs.add(new ScoringInput("r" + i, "p", "r", Arrays.copyOfRange(row, 0, 3),
                    Arrays.copyOfRange(row, 3, row.length), null));
        }
        String spec = "torchscript:" + dir.resolve("tiny_reward.pt") + ";context=16;vocab=64;version=7";
        try (RewardSource source = RewardSources.create(RewardSpec.parse(spec))) {
            assertThat(source.name()).isEqualTo("tiny_reward");
            assertThat(source.kind()).isEqualTo(ScoreSource.TORCHSCRIPT_RM);
            assertThat(source.version()).isEqualTo(7);
            double[] scores = source.score(inputs);
            JsonNode golden = expected.get("reward").get("scores");
            for (int i = 0; i < 3; i++) {
                assertThat(scores[i]).isCloseTo(golden.get(i).asDouble(), within(1e-4));
            }
        }
    }
}
